package dev.sluice.server.api;

import io.grpc.KnownLength;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

/** A message's bytes are read whole, whatever length its stream says it has. */
class WireRequestsTest {

    /** A stream that says it knows its length: {@code said} (at most what is left) when first asked, what is left after. */
    private static final class Known extends ByteArrayInputStream implements KnownLength {
        private int said;

        Known(byte[] bytes, int said) {
            super(bytes);
            this.said = said;
        }

        @Override
        public synchronized int available() {
            int a = Math.min(said, super.available());
            said = Integer.MAX_VALUE;
            return a;
        }
    }

    private static byte[] random(int size) {
        byte[] b = new byte[size];
        new Random(size).nextBytes(b);
        return b;
    }

    @Test
    void aStreamOfKnownLengthIsReadWholeAtAnySize() {
        for (int size : new int[] {1, 100, 8192, 8193, 40_000}) {
            byte[] message = random(size);
            assertArrayEquals(message, WireRequests.bytes(new Known(message, size)), "size " + size);
        }
    }

    @Test
    void aStreamThatSaysLessThanItHoldsIsStillReadToItsEnd() {
        byte[] message = random(20_000);
        assertArrayEquals(message, WireRequests.bytes(new Known(message, 150)));
        assertArrayEquals(message, WireRequests.bytes(new Known(message, 19_999)));
    }

    @Test
    void anEmptyMessageAndAStreamOfUnknownLengthAreReadToo() {
        assertArrayEquals(new byte[0], WireRequests.bytes(new Known(new byte[0], 0)));
        byte[] message = random(300);
        InputStream unknown = new ByteArrayInputStream(message) {
            @Override
            public synchronized int available() {
                return 0;
            }
        };
        assertArrayEquals(message, WireRequests.bytes(unknown));
    }
}
