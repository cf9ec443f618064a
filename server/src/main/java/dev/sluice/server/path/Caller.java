package dev.sluice.server.path;

/**
 * Who is asking, as the node verified it: the identity of a client certificate (its SAN URI, such
 * as a SPIFFE id, else its DNS name) or the owner of a bearer token; or nobody, when the node
 * verifies no identity. A domain's {@code callers:} and the policy's {@code admins:} name
 * callers; a caller's request ids are its own.
 *
 * @param id the verified identity, or {@code null} for an anonymous caller
 */
public record Caller(String id) {

    /** A caller the node knows nothing of. */
    public static final Caller ANONYMOUS = new Caller(null);

    public boolean anonymous() {
        return id == null;
    }

    @Override
    public String toString() {
        return id == null ? "anonymous" : id;
    }
}
