package dev.sluice.bench;

import com.hazelcast.client.HazelcastClient;
import com.hazelcast.client.config.ClientConfig;
import com.hazelcast.core.HazelcastInstance;
import io.github.bucket4j.BucketConfiguration;
import io.github.bucket4j.distributed.AsyncBucketProxy;
import io.github.bucket4j.grid.hazelcast.Bucket4jHazelcast;
import io.github.bucket4j.grid.hazelcast.HazelcastProxyManager;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Bucket4j's Hazelcast entry-processor proxy, used through a Hazelcast client (which routes each
 * call to the member owning its key) against members in JVMs of their own, with the asynchronous API.
 */
final class Bucket4jTarget implements Target {

    private final HazelcastInstance client;
    private final AsyncBucketProxy[] buckets;
    private final HazelcastProxyManager<String> proxies;
    private final List<Long> pids;
    private final long cost;

    Bucket4jTarget(List<Integer> memberPorts, List<Long> pids, int keyCount, long cost) {
        this.cost = cost;
        ClientConfig c = new ClientConfig().setClusterName(Bucket4jMember.CLUSTER);
        for (int port : memberPorts) {
            c.getNetworkConfig().addAddress("127.0.0.1:" + port);
        }
        c.setProperty("hazelcast.logging.type", "jdk");
        HazelcastProxyManager.addCustomSerializers(c.getSerializationConfig(), Bucket4jMember.SERIALIZER_BASE);
        this.client = HazelcastClient.newHazelcastClient(c);
        this.proxies = Bucket4jHazelcast.entryProcessorBasedBuilder(client.<String, byte[]>getMap("buckets")).build();
        BucketConfiguration config = BucketConfiguration.builder()
                .addLimit(limit -> limit.capacity(1_000_000_000L).refillGreedy(1_000_000L, Duration.ofSeconds(1)))
                .build();
        this.buckets = new AsyncBucketProxy[keyCount];
        for (int k = 0; k < keyCount; k++) {
            buckets[k] = proxies.asAsync().builder().build("k" + k, () -> CompletableFuture.completedFuture(config));
        }
        this.pids = pids;
    }

    @Override
    public String name() {
        return "bucket4j-hazelcast";
    }

    @Override
    public CompletableFuture<Integer> call(long key) {
        return buckets[(int) key].tryConsume(cost).thenApply(ok -> ok ? 1 : 0);
    }

    @Override
    public int limitCheck(String key, int capacity, int attempts) throws Exception {
        BucketConfiguration small = BucketConfiguration.builder()
                .addLimit(limit -> limit.capacity(capacity).refillGreedy(1, Duration.ofHours(1))).build();
        AsyncBucketProxy bucket = proxies.asAsync().builder().build("check:" + key, () -> CompletableFuture.completedFuture(small));
        int allowed = 0;
        for (int i = 0; i < attempts; i++) {
            allowed += bucket.tryConsume(1).get() ? 1 : 0;
        }
        return allowed;
    }

    @Override
    public List<Long> pids() {
        return pids;
    }

    @Override
    public void close() {
        client.shutdown();
    }
}
