package dev.sluice.server.api;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedInputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.WireFormat;
import dev.sluice.api.v1.AcquireBatchRequest;
import dev.sluice.api.v1.AcquireRequest;
import dev.sluice.api.v1.StreamRequests;
import io.grpc.KnownLength;
import io.grpc.MethodDescriptor;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.IntFunction;

/**
 * Requests read off the wire without ever failing the call: bytes that do not make a request
 * (invalid UTF-8 in a string field, a truncated or garbled message) become a problem naming the
 * field, answered like any other malformed request with INVALID_ARGUMENT. gRPC's own parsing would
 * throw, answer UNKNOWN, log a stack trace, and end a whole stream over one bad entry. Well-formed
 * messages take the generated parser's path; only a message it refuses is walked field by field
 * to find what is wrong, and a batch's or a stream message's good entries are kept.
 */
final class WireRequests {

    private WireRequests() {
    }

    /** A message as read: itself, or the problem that kept it from being read (the other is null). */
    record Read<T>(T message, String problem) {
        static <T> Read<T> of(T message) {
            return new Read<>(message, null);
        }

        static <T> Read<T> refused(String problem) {
            return new Read<>(null, problem);
        }
    }

    /** One request of a stream message: its id (when it could be read) and the request. */
    record StreamEntry(long id, boolean hasId, Read<AcquireRequest> request) {
    }

    private static final int LENGTH_DELIMITED = WireFormat.WIRETYPE_LENGTH_DELIMITED;
    private static final int VARINT = WireFormat.WIRETYPE_VARINT;

    static Read<AcquireRequest> acquire(byte[] bytes) {
        try {
            return Read.of(AcquireRequest.parseFrom(bytes));
        } catch (InvalidProtocolBufferException e) {
            return Read.refused(describeAcquire(ByteString.copyFrom(bytes), e));
        }
    }

    /** A batch's requests, each read on its own; a refusal when the batch itself cannot be read. */
    static Read<List<Read<AcquireRequest>>> batch(byte[] bytes) {
        try {
            AcquireBatchRequest batch = AcquireBatchRequest.parseFrom(bytes);
            List<Read<AcquireRequest>> out = new ArrayList<>(batch.getRequestsCount());
            for (AcquireRequest r : batch.getRequestsList()) {
                out.add(Read.of(r));
            }
            return Read.of(out);
        } catch (InvalidProtocolBufferException e) {
            List<Read<AcquireRequest>> out = new ArrayList<>();
            String broken = walk(bytes, "AcquireBatchRequest", f -> f == 1 ? "requests[" + out.size() + "]" : "AcquireBatchRequest: field " + f,
                    (field, wireType, in) -> {
                if (field != 1) {
                    in.skipField(tag(field, wireType));
                    return null;
                }
                if (wireType != LENGTH_DELIMITED) {
                    return "requests[" + out.size() + "]: not a message (wire type " + wireType + ")";
                }
                out.add(acquire(in.readByteArray()));
                return null;
            });
            return broken == null ? Read.of(out) : Read.refused(broken);
        }
    }

    /**
     * A stream message's requests. Entries are read one by one: a bad entry whose id can be read
     * is answered on that id; what follows a break in the message's framing cannot be read at all.
     */
    static List<StreamEntry> stream(byte[] bytes) {
        try {
            StreamRequests message = StreamRequests.parseFrom(bytes);
            List<StreamEntry> out = new ArrayList<>(message.getRequestsCount());
            for (var r : message.getRequestsList()) {
                out.add(new StreamEntry(r.getId(), true, Read.of(r.getRequest())));
            }
            return out;
        } catch (InvalidProtocolBufferException e) {
            List<StreamEntry> out = new ArrayList<>();
            String broken = walk(bytes, "StreamRequests", f -> f == 1 ? "requests[" + out.size() + "]" : "StreamRequests: field " + f,
                    (field, wireType, in) -> {
                if (field != 1) {
                    in.skipField(tag(field, wireType));
                    return null;
                }
                if (wireType != LENGTH_DELIMITED) {
                    return "requests[" + out.size() + "]: not a message (wire type " + wireType + ")";
                }
                out.add(streamEntry(in.readByteArray()));
                return null;
            });
            if (broken != null) {
                out.add(new StreamEntry(0, false, Read.refused(broken)));
            }
            return out;
        }
    }

    private static StreamEntry streamEntry(byte[] bytes) {
        long[] id = {0};
        boolean[] hasId = {false};
        byte[][] request = {null};
        String broken = walk(bytes, "StreamRequest", f -> f == 1 ? "id" : f == 2 ? "request" : "StreamRequest: field " + f,
                (field, wireType, in) -> {
            if (field == 1 && wireType == VARINT) {
                id[0] = in.readUInt64();
                hasId[0] = true;
            } else if (field == 2 && wireType == LENGTH_DELIMITED) {
                request[0] = in.readByteArray();
            } else if (field == 1 || field == 2) {
                return (field == 1 ? "id" : "request") + ": wrong wire type " + wireType;
            } else {
                in.skipField(tag(field, wireType));
            }
            return null;
        });
        if (broken != null) {
            return new StreamEntry(id[0], hasId[0], Read.refused(broken));
        }
        return new StreamEntry(id[0], hasId[0], request[0] == null ? Read.of(AcquireRequest.getDefaultInstance()) : acquire(request[0]));
    }

    /** What is wrong with an AcquireRequest's bytes, naming the field. */
    private static String describeAcquire(ByteString bytes, InvalidProtocolBufferException original) {
        String problem = walk(bytes.toByteArray(), "AcquireRequest", WireRequests::acquireField, (field, wireType, in) -> switch (field) {
            case 1 -> text(in, wireType, "domain");
            case 5 -> text(in, wireType, "request_id");
            case 2 -> wireType != LENGTH_DELIMITED ? "descriptors: not an entry (wire type " + wireType + ")" : descriptor(in.readBytes());
            case 3, 4 -> {
                if (wireType != VARINT) {
                    yield (field == 3 ? "cost" : "dry_run") + ": not a number (wire type " + wireType + ")";
                }
                in.readRawVarint64();
                yield null;
            }
            default -> {
                in.skipField(tag(field, wireType));
                yield null;
            }
        });
        return problem != null ? problem : "AcquireRequest: cannot be read (" + original.getMessage() + ")";
    }

    private static String text(CodedInputStream in, int wireType, String field) throws IOException {
        if (wireType != LENGTH_DELIMITED) {
            return field + ": not a string (wire type " + wireType + ")";
        }
        return utf8Problem(in.readBytes(), field, "");
    }

    private static String descriptor(ByteString entry) throws IOException {
        String[] name = {null};
        String problem = walk(entry.toByteArray(), "descriptors", f -> f == 1 ? "descriptors: a name" : "descriptors: a value",
                (field, wireType, in) -> {
            if ((field == 1 || field == 2) && wireType != LENGTH_DELIMITED) {
                return "descriptors: an entry's " + (field == 1 ? "name" : "value") + " is not a string (wire type " + wireType + ")";
            }
            if (field == 1) {
                ByteString key = in.readBytes();
                String bad = utf8Problem(key, "descriptors", "a name ");
                if (bad != null) {
                    return bad;
                }
                name[0] = key.toStringUtf8();
            } else if (field == 2) {
                String bad = utf8Problem(in.readBytes(), "descriptors[\"" + (name[0] == null ? "?" : shortened(name[0])) + "\"]", "the value ");
                if (bad != null) {
                    return bad;
                }
            } else {
                in.skipField(tag(field, wireType));
            }
            return null;
        });
        return problem == null ? null : problem.startsWith("descriptors") ? problem : "descriptors: " + problem;
    }

    /** A name echoed in a message, cut to the longest a valid one may be. */
    private static String shortened(String name) {
        return name.length() <= 64 ? name : name.substring(0, 64) + "...";
    }

    /**
     * {@code field}'s {@code what} (empty: the field itself) is not valid UTF-8, with the offset of
     * the first bad byte; or {@code null} when it is.
     */
    private static String utf8Problem(ByteString bytes, String field, String what) {
        if (bytes.isValidUtf8()) {
            return null;
        }
        CharsetDecoder d = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = bytes.asReadOnlyByteBuffer();
        CharBuffer out = CharBuffer.allocate(bytes.size());
        CoderResult r = d.decode(in, out, true);
        int at = r.isError() ? in.position() : bytes.size();
        return field + ": " + (what.isEmpty() ? "not" : what + "is not") + " valid UTF-8 (byte " + at + " of " + bytes.size() + ")";
    }

    private static int tag(int field, int wireType) {
        return (field << 3) | wireType;
    }

    /** One field of a message being walked; returns a problem to stop at, or {@code null} to go on. */
    @FunctionalInterface
    private interface FieldVisitor {
        String visit(int field, int wireType, CodedInputStream in) throws IOException;
    }

    /**
     * Walks a message's fields; the first problem, or where and why its framing broke (naming the
     * field being read, with {@code names}), or {@code null}.
     */
    private static String walk(byte[] bytes, String message, IntFunction<String> names, FieldVisitor visitor) {
        CodedInputStream in = CodedInputStream.newInstance(bytes);
        int field = 0;
        try {
            while (true) {
                field = 0;
                int tag = in.readTag();
                if (tag == 0) {
                    return null;
                }
                field = WireFormat.getTagFieldNumber(tag);
                String problem = visitor.visit(field, WireFormat.getTagWireType(tag), in);
                if (problem != null) {
                    return problem;
                }
            }
        } catch (IOException e) {
            String where = field == 0 ? message : names.apply(field);
            return where + ": cannot be read: the message is truncated or garbled at byte " + in.getTotalBytesRead() + " of "
                    + bytes.length + " (" + e.getMessage() + ")";
        }
    }

    private static String acquireField(int field) {
        return switch (field) {
            case 1 -> "domain";
            case 2 -> "descriptors";
            case 3 -> "cost";
            case 4 -> "dry_run";
            case 5 -> "request_id";
            default -> "AcquireRequest: field " + field;
        };
    }

    /**
     * Reads a whole message into memory: the bytes are needed again when the fast path refuses them.
     * gRPC's streams know their length ({@code available()} is what is left): the message is read
     * into an array of its size. {@code readAllBytes} would first fill an 8 KiB buffer, then copy:
     * for a request of a hundred bytes, 8 KiB allocated and zeroed each time, about 3 % of a unary
     * node's CPU (async-profiler, one node). A stream that may say less than it holds is read to its
     * end after that.
     */
    static byte[] bytes(InputStream stream) {
        try {
            int known = stream instanceof KnownLength ? stream.available() : 0;
            if (known <= 0) {
                return stream.readAllBytes();
            }
            byte[] bytes = stream.readNBytes(known);
            int next = stream.read();
            if (next < 0) {
                return bytes;
            }
            byte[] rest = stream.readAllBytes();
            byte[] all = Arrays.copyOf(bytes, bytes.length + 1 + rest.length);
            all[bytes.length] = (byte) next;
            System.arraycopy(rest, 0, all, bytes.length + 1, rest.length);
            return all;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A marshaller reading with {@code reader}; writing is a client's business, done with the generated messages. */
    static <T> MethodDescriptor.Marshaller<T> reading(java.util.function.Function<byte[], T> reader) {
        return new MethodDescriptor.Marshaller<>() {
            @Override
            public InputStream stream(T value) {
                throw new UnsupportedOperationException("the node reads these messages; it never writes them");
            }

            @Override
            public T parse(InputStream stream) {
                return reader.apply(bytes(stream));
            }
        };
    }
}
