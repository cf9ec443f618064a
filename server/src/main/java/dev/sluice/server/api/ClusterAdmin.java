package dev.sluice.server.api;

import dev.sluice.server.observe.KeyCounts;
import dev.sluice.server.observe.TopKeys;

import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * What the admin API asks of the cluster beyond the bucket store: every member's report of
 * itself, every member's heaviest keys, where a bucket lives, and the cluster's state. The node
 * answers it from its Hazelcast member.
 */
public interface ClusterAdmin {

    /** One member as it reports itself. */
    record Report(String grpcAddress, String state, int ownedPartitions, long ownedBuckets, long backupBuckets, String policyVersion,
                  long clockOffsetMillis, long uptimeMillis, String version) {
    }

    /** A member's answer to a question, or why there is none ({@code answer} is then {@code null}). */
    record MemberAnswer<T>(String uuid, String memberAddress, boolean local, T answer, String error) {
    }

    /** Where a bucket lives: its owner's member address and id, both empty while its partition has none. */
    record Owner(String memberAddress, String uuid) {
    }

    /** Every member's report, in member order (the oldest first). */
    CompletableFuture<List<MemberAnswer<Report>>> reports();

    /** Every member's summary of {@code domain}'s heaviest keys over the last minute. */
    CompletableFuture<List<MemberAnswer<KeyCounts>>> topKeys(String domain, TopKeys.By by);

    /**
     * Every member's figures for the console: its counters and its decision-time histogram,
     * cumulative since it started, flattened to names and counts (empty for a member without metrics).
     */
    CompletableFuture<List<MemberAnswer<java.util.Map<String, Long>>>> figures();

    /** The member owning the bucket named {@code bucketName} now. */
    Owner owner(String bucketName);

    /** Hazelcast's cluster state, e.g. ACTIVE. */
    String state();

    /** Whether every partition has its owner and backup in place and nothing is migrating. */
    boolean safe();

    /** Partitions of the bucket map. */
    int partitions();
}
