package dev.sluice.server.store;

/** What a member at its {@link BucketBudget} answers a request that would create a bucket. */
public enum NewBucket {
    /** Refuse it: the caller hears RESOURCE_EXHAUSTED and its failure mode decides. */
    REFUSE,
    /** Deny it, as if over its limit. */
    DENY,
    /** Allow it without keeping a bucket: the request is not counted. */
    ALLOW
}
