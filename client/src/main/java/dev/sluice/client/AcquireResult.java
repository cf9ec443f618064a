package dev.sluice.client;

import dev.sluice.api.v1.AcquireResponse;
import dev.sluice.api.v1.Decision;
import dev.sluice.api.v1.Header;
import dev.sluice.api.v1.LimitStatus;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Sluice's answer to one {@link Acquire}: the decision, every limit that applied, how long to
 * wait, and the HTTP status, headers and body to send back, in the policy's dialect. Immutable.
 *
 * <p>Serve the request when {@link #allowed()}; otherwise {@link #writeTo} writes the denial.
 */
public final class AcquireResult {

    /** Where an answer came from. */
    public enum Source {
        /** A Sluice node decided. */
        SERVER,
        /** The client repeated a denial a node gave for the same request, within its retry-after. */
        LOCAL_DENIAL_CACHE,
        /** No node answered in time; allowed because the client fails open. */
        FAIL_OPEN,
        /** No node answered in time; denied because the client fails closed. */
        FAIL_CLOSED,
        /**
         * The client decided from units a node leased it for a hot key ({@link SluiceClient.Builder#hotKeyLeases}):
         * the node's answer to the lease, each limit's remaining counted down by what the client spent since.
         */
        LEASE
    }

    private final boolean allowed;
    private final Source source;
    private final List<LimitState> limits;
    private final Duration retryAfter;
    private final List<HttpHeader> headers;
    private final int httpStatus;
    private final String body;
    private final String failure;
    private final String requestId;
    private final String leaseId;
    private final boolean inFlight;

    private AcquireResult(boolean allowed, Source source, List<LimitState> limits, Duration retryAfter, List<HttpHeader> headers,
                          int httpStatus, String body, String failure) {
        this(allowed, source, limits, retryAfter, headers, httpStatus, body, failure, "");
    }

    private AcquireResult(boolean allowed, Source source, List<LimitState> limits, Duration retryAfter, List<HttpHeader> headers,
                          int httpStatus, String body, String failure, String requestId) {
        this(allowed, source, limits, retryAfter, headers, httpStatus, body, failure, requestId, "", false);
    }

    private AcquireResult(boolean allowed, Source source, List<LimitState> limits, Duration retryAfter, List<HttpHeader> headers,
                          int httpStatus, String body, String failure, String requestId, String leaseId, boolean inFlight) {
        this.leaseId = leaseId;
        this.inFlight = inFlight;
        this.allowed = allowed;
        this.source = source;
        this.limits = List.copyOf(limits);
        this.retryAfter = retryAfter;
        this.headers = List.copyOf(headers);
        this.httpStatus = httpStatus;
        this.body = body;
        this.failure = failure;
        this.requestId = requestId;
    }

    /** This answer, for the request that carried {@code id}. */
    AcquireResult withRequestId(String id) {
        return new AcquireResult(allowed, source, limits, retryAfter, headers, httpStatus, body, failure, id, leaseId, inFlight);
    }

    /** A node's answer to the request that carried {@code requestId}. */
    static AcquireResult from(AcquireResponse r, String requestId) {
        List<LimitState> limits = new ArrayList<>(r.getLimitsCount());
        boolean inFlight = false;
        for (LimitStatus l : r.getLimitsList()) {
            inFlight |= l.getInFlight();
            limits.add(new LimitState(l.getName(), l.getDecision() == Decision.ALLOWED, l.getLimit(), l.getRemaining(),
                    duration(l.getResetAfter()), duration(l.getWindow())));
        }
        List<HttpHeader> headers = new ArrayList<>(r.getHeadersCount());
        for (Header h : r.getHeadersList()) {
            headers.add(new HttpHeader(h.getName(), h.getValue()));
        }
        return new AcquireResult(r.getDecision() == Decision.ALLOWED, Source.SERVER, limits, duration(r.getRetryAfter()), headers,
                r.getHttpStatus(), r.getBody(), null, requestId, r.getLeaseId(), inFlight);
    }

    /** Allowed from a lease: nothing was sent, so there is no request id. */
    static AcquireResult leased(List<LimitState> limits, List<HttpHeader> headers) {
        return new AcquireResult(true, Source.LEASE, limits, Duration.ZERO, headers, 200, "", null);
    }

    static AcquireResult failOpen(String reason) {
        return new AcquireResult(true, Source.FAIL_OPEN, List.of(), Duration.ZERO, List.of(), 200, "", reason);
    }

    static AcquireResult failClosed(String reason) {
        return new AcquireResult(false, Source.FAIL_CLOSED, List.of(), Duration.ZERO, List.of(), 503, "", reason);
    }

    /** This denial repeated from the local cache, {@code left} before it runs out; Retry-After counts down with it. */
    AcquireResult cachedWith(Duration left) {
        List<HttpHeader> adjusted = new ArrayList<>(headers.size());
        String seconds = Long.toString(Math.max(1, -Math.floorDiv(-left.toNanos(), 1_000_000_000L)));
        for (HttpHeader h : headers) {
            adjusted.add(h.name().equalsIgnoreCase("Retry-After") ? new HttpHeader(h.name(), seconds) : h);
        }
        return new AcquireResult(false, Source.LOCAL_DENIAL_CACHE, limits, left, adjusted, httpStatus, body, null);
    }

    /** Whether the request may be served. */
    public boolean allowed() {
        return allowed;
    }

    public boolean denied() {
        return !allowed;
    }

    /** Who decided: a node, the local denial cache, or the failure mode. */
    public Source source() {
        return source;
    }

    /** Every limit that applied, in policy order; empty when no rule matched or no node answered. */
    public List<LimitState> limits() {
        return limits;
    }

    /** How long to wait before the same request could be allowed; zero when allowed. */
    public Duration retryAfter() {
        return retryAfter;
    }

    /** HTTP headers to send to the caller, allowed or not. */
    public List<HttpHeader> headers() {
        return headers;
    }

    /** 200 when allowed; the policy's denial status (429 by default) when denied; 503 when failing closed. */
    public int httpStatus() {
        return httpStatus;
    }

    /** The denial body; empty when allowed or when the policy gives none. */
    public String body() {
        return body;
    }

    /**
     * The request id the client sent, every attempt's (as the nodes' logs and traces know the
     * request); empty for a denial repeated from the local cache, which sent nothing.
     */
    public String requestId() {
        return requestId;
    }

    /**
     * The lease the slots of the concurrency limits that applied are held under, to release when
     * done (a {@link Permit} does); empty when no concurrency limit applied or the request was denied.
     */
    public String leaseId() {
        return leaseId;
    }

    /** Whether a limit that applied counts requests in flight (a concurrency limit): its denial is not cached. */
    boolean countsInFlight() {
        return inFlight;
    }

    /** Why no node answered, when the failure mode decided. */
    public Optional<String> failure() {
        return Optional.ofNullable(failure);
    }

    /**
     * Writes this answer to an HTTP response: the rate-limit headers always; for a denial, the
     * status and the body too. A service that is allowed carries on with its own response.
     */
    public void writeTo(ResponseWriter response) {
        for (HttpHeader h : headers) {
            response.header(h.name(), h.value());
        }
        if (!allowed) {
            response.status(httpStatus);
            if (!body.isEmpty()) {
                response.body(body);
            }
        }
    }

    static Duration duration(com.google.protobuf.Duration d) {
        return Duration.ofSeconds(d.getSeconds(), d.getNanos());
    }

    @Override
    public String toString() {
        return "AcquireResult[" + (allowed ? "ALLOWED" : "DENIED") + " by " + source + ", retryAfter=" + retryAfter
                + ", limits=" + limits + (failure == null ? "" : ", failure=" + failure) + "]";
    }
}
