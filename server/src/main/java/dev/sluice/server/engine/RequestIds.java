package dev.sluice.server.engine;

import java.nio.charset.StandardCharsets;

/**
 * Turns a request's {@code request_id} into the 64-bit value buckets remember. Ids are trusted:
 * they come from the services and gateways that call Sluice, which must make them unique per
 * request (a client library does). The empty id is 0, which means "no id".
 */
public final class RequestIds {

    private RequestIds() {
    }

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
