/**
 * The Sluice Java client: the library services embed to ask a Sluice cluster for decisions.
 *
 * <p>Until the client's own API lands, services call the generated stub
 * {@code dev.sluice.api.v1.RateLimiterGrpc} from the {@code sluice-proto} artifact directly.
 */
package dev.sluice.client;
