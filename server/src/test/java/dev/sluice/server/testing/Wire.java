package dev.sluice.server.testing;

import com.google.protobuf.CodedOutputStream;
import dev.sluice.api.v1.RateLimiterGrpc;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCalls;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.concurrent.TimeUnit;

/** Bytes sent as a careless or hostile caller sends them: whatever they hold, on Sluice's methods. */
public final class Wire {

    private Wire() {
    }

    /** A status and, when it is OK, the answer's bytes. */
    public record Answer(Status status, byte[] bytes) {
    }

    private static final MethodDescriptor.Marshaller<byte[]> BYTES = new MethodDescriptor.Marshaller<>() {
        @Override
        public InputStream stream(byte[] value) {
            return new ByteArrayInputStream(value);
        }

        @Override
        public byte[] parse(InputStream stream) {
            try {
                return stream.readAllBytes();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    };

    /** {@code method} with its messages as raw bytes. */
    public static <Q, A> MethodDescriptor<byte[], byte[]> raw(MethodDescriptor<Q, A> method) {
        return method.toBuilder(BYTES, BYTES).build();
    }

    /** A unary call of {@code method} with {@code request} as its message's bytes. */
    public static <Q, A> Answer call(Channel channel, MethodDescriptor<Q, A> method, byte[] request) {
        try {
            return new Answer(Status.OK, ClientCalls.blockingUnaryCall(channel, raw(method),
                    CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS), request));
        } catch (StatusRuntimeException e) {
            return new Answer(e.getStatus(), null);
        }
    }

    /** The status of an {@code Acquire} call with {@code request} as its bytes. */
    public static Status acquireStatus(Channel channel, byte[] request) {
        return call(channel, RateLimiterGrpc.getAcquireMethod(), request).status();
    }

    /** An AcquireRequest with field {@code field} holding {@code bytes} as a string, after a valid domain. */
    public static byte[] withString(int field, byte[] bytes) {
        return encode(out -> {
            if (field != 1) {
                out.writeString(1, "demo");
            }
            out.writeByteArray(field, bytes);
        });
    }

    /** An AcquireRequest for domain {@code demo} whose descriptor {@code name} has {@code value} as its value's bytes. */
    public static byte[] withDescriptorValue(String name, byte[] value) {
        byte[] entry = encode(out -> {
            out.writeString(1, name);
            out.writeByteArray(2, value);
        });
        return encode(out -> {
            out.writeString(1, "demo");
            out.writeByteArray(2, entry);
        });
    }

    /** A StreamRequest with {@code id} and {@code request} as its request's bytes. */
    public static byte[] streamEntry(long id, byte[] request) {
        return encode(out -> {
            out.writeUInt64(1, id);
            out.writeByteArray(2, request);
        });
    }

    /** A message whose field 1 is repeated with each of {@code entries}: a batch, or a stream message. */
    public static byte[] repeated(byte[]... entries) {
        return encode(out -> {
            for (byte[] e : entries) {
                out.writeByteArray(1, e);
            }
        });
    }

    private interface Fields {
        void write(CodedOutputStream out) throws IOException;
    }

    private static byte[] encode(Fields fields) {
        try {
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            CodedOutputStream out = CodedOutputStream.newInstance(b);
            fields.write(out);
            out.flush();
            return b.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
