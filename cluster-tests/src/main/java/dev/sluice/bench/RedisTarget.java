package dev.sluice.bench;

import io.lettuce.core.RedisClient;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.async.RedisAsyncCommands;

import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Redis with a Lua token bucket, called by EVALSHA through Lettuce's async API: the limiter many
 * teams write themselves. The script refills from Redis's own clock (TIME) and stores tokens
 * and time in a hash with an expiry.
 */
final class RedisTarget implements Target {

    static final String SCRIPT = """
            local capacity = tonumber(ARGV[1])
            local rate = tonumber(ARGV[2])
            local cost = tonumber(ARGV[3])
            local t = redis.call('TIME')
            local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
            local b = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
            local tokens = tonumber(b[1]) or capacity
            local ts = tonumber(b[2]) or now
            tokens = math.min(capacity, tokens + (now - ts) * rate / 1000000)
            local allowed = 0
            if tokens >= cost then
              tokens = tokens - cost
              allowed = 1
            end
            redis.call('HSET', KEYS[1], 'tokens', tokens, 'ts', now)
            redis.call('PEXPIRE', KEYS[1], math.ceil((capacity - tokens) / rate * 1000) + 1000)
            return allowed
            """;

    private final RedisClient client;
    private final StatefulRedisConnection<String, String> connection;
    private final RedisAsyncCommands<String, String> redis;
    private final String sha;
    private final List<Long> pids;
    private final String[][] keys;
    private final String cost;

    RedisTarget(int port, List<Long> pids, int keyCount, long cost) {
        this.cost = Long.toString(cost);
        this.client = RedisClient.create("redis://127.0.0.1:" + port);
        this.connection = client.connect();
        this.redis = connection.async();
        this.sha = connection.sync().scriptLoad(SCRIPT);
        this.pids = pids;
        this.keys = new String[keyCount][];
        for (int k = 0; k < keyCount; k++) {
            keys[k] = new String[] {"k" + k};
        }
    }

    @Override
    public String name() {
        return "redis-lua";
    }

    @Override
    public CompletableFuture<Integer> call(long key) {
        return redis.<Long>evalsha(sha, ScriptOutputType.INTEGER, keys[(int) key], "1000000000", "1000000", cost)
                .toCompletableFuture().thenApply(Long::intValue);
    }

    @Override
    public int limitCheck(String key, int capacity, int attempts) {
        int allowed = 0;
        for (int i = 0; i < attempts; i++) {
            Long r = connection.sync().evalsha(sha, ScriptOutputType.INTEGER, new String[] {"check:" + key},
                    Integer.toString(capacity), "0.0002777", "1");
            allowed += r.intValue();
        }
        return allowed;
    }

    @Override
    public List<Long> pids() {
        return pids;
    }

    @Override
    public void close() {
        connection.close();
        client.shutdown();
    }
}
