package dev.sluice.server.engine;

import java.nio.charset.StandardCharsets;

/**
 * Turns a request's {@code request_id} into the 64-bit value buckets remember. Ids come from the
 * services and gateways that call Sluice, which must make them unique per request (a client
 * library does); with verified callers they are scoped per caller. The empty id is 0, which
 * means "no id".
 */
public final class RequestIds {

    private RequestIds() {
    }

    /**
     * The value for {@code requestId} of caller {@code callerId} ({@code null}: anonymous): a
     * caller's ids are its own, so one caller's id never answers another's request.
     */
    public static long of(String callerId, String requestId) {
        return callerId == null || requestId.isEmpty() ? of(requestId) : of(callerId + '\u0000' + requestId);
    }

    /** A new id no caller chose: 16 hexadecimal digits from a strong random source, for a lease a request without an id holds. */
    public static String fresh() {
        return java.util.HexFormat.of().toHexDigits(RANDOM.nextLong());
    }

    private static final java.security.SecureRandom RANDOM = new java.security.SecureRandom();

    public static long of(String requestId) {
        if (requestId.isEmpty()) {
            return 0;
        }
        // FNV-1a over the UTF-8 bytes, then a strong 64-bit finalizer to spread the bits.
        long h = 0xcbf29ce484222325L;
        for (byte b : requestId.getBytes(StandardCharsets.UTF_8)) {
            h ^= b & 0xff;
            h *= 0x100000001b3L;
        }
        h ^= h >>> 33;
        h *= 0xff51afd7ed558ccdL;
        h ^= h >>> 33;
        h *= 0xc4ceb9fe1a85ec53L;
        h ^= h >>> 33;
        return h == 0 ? 1 : h;
    }
}
