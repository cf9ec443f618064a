package dev.sluice.client;

import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Request ids for one client: 128 random bits drawn once, then the client's count of requests. As
 * unique as a random UUID per request, without asking a secure random source on every call (which
 * cost about 5% of a busy client's CPU). Every attempt at a request carries its id, so a node that
 * applied it before its answer was lost answers a retry without counting it twice.
 */
final class RequestIds {

    private final String prefix;
    private final AtomicLong counter = new AtomicLong();

    RequestIds() {
        byte[] bytes = new byte[16];
        new SecureRandom().nextBytes(bytes);
        this.prefix = HexFormat.of().formatHex(bytes) + "-";
    }

    String next() {
        return prefix + Long.toHexString(counter.incrementAndGet());
    }
}
