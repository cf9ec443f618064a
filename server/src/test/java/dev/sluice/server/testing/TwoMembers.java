package dev.sluice.server.testing;

import com.hazelcast.core.HazelcastInstance;
import dev.sluice.server.store.BucketStore;
import dev.sluice.server.time.Clock;

import java.util.List;

/**
 * Two members over TCP on loopback, so that about half the buckets live on the other member, and a
 * store on the first through each of its paths: Hazelcast's internals and its public API alone.
 */
public final class TwoMembers implements AutoCloseable {

    public final List<HazelcastInstance> members;
    public final BucketStore internal;
    public final BucketStore publicApi;

    public TwoMembers(String clusterPrefix, Clock clock) {
        this.members = TestMembers.cluster(TestNodes.uniqueCluster(clusterPrefix), clock, clock);
        this.internal = TestMembers.store(members.get(0), true);
        this.publicApi = TestMembers.store(members.get(0), false);
    }

    @Override
    public void close() {
        internal.close();
        publicApi.close();
        members.forEach(m -> m.getLifecycleService().terminate());
    }
}
