package dev.sluice.server.engine;

import dev.sluice.server.policy.AppliedLimit;

/**
 * What a Release or Renew did to one concurrency limit's lease.
 *
 * @param limit            the concurrency limit
 * @param held             Release: the lease was held and is now given back; Renew: it is held, renewed
 * @param expiresAfterNanos Renew: until the lease runs out unless renewed again; 0 when not held
 */
public record LeaseResult(AppliedLimit limit, boolean held, long expiresAfterNanos) {
}
