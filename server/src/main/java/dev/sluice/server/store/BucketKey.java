package dev.sluice.server.store;

import com.hazelcast.nio.ObjectDataInput;
import com.hazelcast.nio.ObjectDataOutput;
import com.hazelcast.nio.serialization.StreamSerializer;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * The key of a bucket in the map: the first 128 bits of the SHA-256 digest of the bucket's name
 * (the policy's {@code domain␟rule␟limit␟algorithm␟descriptor=value…}), so every bucket's key costs
 * the same 16 bytes however long its descriptor values are.
 *
 * <p>A cryptographic digest, because descriptor values come from callers: finding two names with
 * the same key takes about 2<sup>64</sup> digests even for someone choosing both, and one that
 * lands on another caller's given bucket about 2<sup>128</sup>. Any member computes the same key
 * from the same name, with nothing shared beforehand.
 */
public final class BucketKey {

    /** Hazelcast type id of the key's serializer; must be the same on every member. */
    public static final int TYPE_ID = 0x51CE;

    private static final ThreadLocal<MessageDigest> SHA_256 = ThreadLocal.withInitial(() -> {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java runtime has SHA-256", e);
        }
    });

    private final long high;
    private final long low;

    BucketKey(long high, long low) {
        this.high = high;
        this.low = low;
    }

    /** The key of the bucket named {@code name}. */
    public static BucketKey of(String name) {
        byte[] d = SHA_256.get().digest(name.getBytes(StandardCharsets.UTF_8));
        return new BucketKey(bigEndian(d, 0), bigEndian(d, 8));
    }

    private static long bigEndian(byte[] b, int at) {
        long v = 0;
        for (int i = at; i < at + 8; i++) {
            v = v << 8 | (b[i] & 0xFF);
        }
        return v;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof BucketKey k && k.high == high && k.low == low;
    }

    @Override
    public int hashCode() {
        return (int) (high ^ high >>> 32);
    }

    /** The 32 hexadecimal digits of the key. */
    @Override
    public String toString() {
        return String.format("%016x%016x", high, low);
    }

    /** Writes the key as its 16 bytes and nothing else: no length, no class name. */
    static final class Serializer implements StreamSerializer<BucketKey> {

        @Override
        public void write(ObjectDataOutput out, BucketKey key) throws IOException {
            out.writeLong(key.high);
            out.writeLong(key.low);
        }

        @Override
        public BucketKey read(ObjectDataInput in) throws IOException {
            return new BucketKey(in.readLong(), in.readLong());
        }

        @Override
        public int getTypeId() {
            return TYPE_ID;
        }
    }
}
