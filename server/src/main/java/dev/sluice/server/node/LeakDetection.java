package dev.sluice.server.node;

import io.grpc.netty.shaded.io.netty.util.ResourceLeakDetector;

/**
 * Netty's buffer leak detector, by default, records a stack trace for one buffer in 128. Under
 * load a node allocates buffers for every call, and those traces were about a twentieth of its
 * CPU in a profile of the benchmark. It is a debugging aid, so a node turns it off unless its
 * level was set explicitly with Netty's system property.
 */
public final class LeakDetection {

    /** The property the gRPC-shaded Netty reads its level from. */
    static final String PROPERTY = "io.grpc.netty.shaded.io.netty.leakDetection.level";

    private LeakDetection() {
    }

    /** Turns the detector off, unless a level was asked for on the command line. */
    public static void offUnlessAsked() {
        if (System.getProperty(PROPERTY) == null && System.getProperty("io.netty.leakDetection.level") == null) {
            ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.DISABLED);
        }
    }
}
