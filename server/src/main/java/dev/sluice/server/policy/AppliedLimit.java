package dev.sluice.server.policy;

import dev.sluice.server.algorithm.Algorithm;

/**
 * One limit that applies to a request: what to decide, on which bucket, and how to report it.
 *
 * @param name        the limit's name from the policy
 * @param rule        the name of the rule it belongs to
 * @param algorithm   the algorithm with the numbers for this request (a tier table may choose them)
 * @param bucketKey   the key of the bucket in the cluster's map
 * @param shadow      count and report, never deny
 * @param countDenied charge the limit even when the request is denied
 * @param response    how to speak when this limit decides the response
 * @param text        the parts of its headers that are the same on every response
 * @param whenFull    its domain's answer when the bucket is new and its member holds all it may
 * @param meter       how its metrics name it, or {@code null} for a limit not from a policy file
 * @param settleWithinNanos how long its bucket remembers a request so its cost can be settled, when longer than the
 *                    node's request memory; 0 for the node's
 */
public record AppliedLimit(String name, String rule, Algorithm algorithm, String bucketKey,
                           boolean shadow, boolean countDenied, ResponseStyle response, LimitText text, WhenFull whenFull,
                           LimitMeter meter, long settleWithinNanos) {

    public AppliedLimit(String name, String rule, Algorithm algorithm, String bucketKey, boolean shadow, boolean countDenied,
                        ResponseStyle response, LimitText text) {
        this(name, rule, algorithm, bucketKey, shadow, countDenied, response, text, WhenFull.REFUSE, null, 0);
    }
}
