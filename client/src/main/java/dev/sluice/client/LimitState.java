package dev.sluice.client;

import java.time.Duration;

/**
 * The state of one limit after a decision.
 *
 * @param name       the limit's name in the policy
 * @param allowed    whether this limit allowed the request (it may while another denied it)
 * @param limit      the most units the limit allows: a bucket's capacity or a window's limit
 * @param remaining  units left right after the decision
 * @param resetAfter time until the limit is back at rest
 * @param window     the period the limit is expressed over
 */
public record LimitState(String name, boolean allowed, long limit, long remaining, Duration resetAfter, Duration window) {
}
