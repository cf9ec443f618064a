package dev.sluice.server.api;

import dev.sluice.server.engine.DecisionEngine;
import dev.sluice.server.engine.LimitResult;
import dev.sluice.server.engine.Verdict;
import dev.sluice.server.envoy.EnvoyConfig;
import dev.sluice.server.envoy.EnvoyDomain;
import dev.sluice.server.envoy.EnvoyLimit;
import dev.sluice.server.envoy.EnvoyUnit;
import dev.sluice.server.observe.RpcMetrics;
import dev.sluice.server.path.DecisionPath;
import dev.sluice.server.path.Refusal;
import dev.sluice.server.policy.AppliedLimit;
import io.envoyproxy.envoy.config.core.v3.HeaderValue;
import io.envoyproxy.envoy.extensions.common.ratelimit.v3.RateLimitDescriptor;
import io.envoyproxy.envoy.service.ratelimit.v3.RateLimitRequest;
import io.envoyproxy.envoy.service.ratelimit.v3.RateLimitResponse;
import io.envoyproxy.envoy.service.ratelimit.v3.RateLimitServiceGrpc;
import io.grpc.stub.StreamObserver;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Supplier;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * {@code envoy.service.ratelimit.v3.RateLimitService/ShouldRateLimit} over the one decision path,
 * as envoyproxy/ratelimit answers it: each descriptor looked up in the domain's configuration on
 * its own ({@link EnvoyDomain#match}), its hits counted on its own bucket (a refused request's too),
 * {@code statuses[i]} answering {@code descriptors[i]}, {@code overall_code} OVER_LIMIT when any
 * descriptor is; a descriptor's own {@code limit} used instead of the configuration; {@code replaces}
 * across the request; unlimited limits never counted. A domain marked {@code all_or_nothing} decides
 * the request's limits together instead, taking nothing when one refuses.
 */
public final class EnvoyRateLimitService extends RateLimitServiceGrpc.RateLimitServiceImplBase {

    private static final Logger LOG = Logger.getLogger(EnvoyRateLimitService.class.getName());

    /** envoyproxy/ratelimit's remaining for an unlimited descriptor: the largest uint32. */
    static final long UNLIMITED_REMAINING = 4_294_967_295L;

    /**
     * How the service answers beyond the statuses.
     *
     * @param headerNames the names of the limit, remaining and reset headers {@code responseHeaders} adds
     */
    public record Options(boolean responseHeaders, boolean globalShadowMode, List<String> headerNames) {
        public Options {
            headerNames = List.copyOf(headerNames);
            if (headerNames.size() != 3) {
                throw new IllegalArgumentException("three header names are needed (limit, remaining, reset), got " + headerNames);
            }
        }

        /** envoyproxy/ratelimit's default names. */
        public Options(boolean responseHeaders, boolean globalShadowMode) {
            this(responseHeaders, globalShadowMode, List.of("RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"));
        }
    }

    private final DecisionPath path;
    private final Supplier<EnvoyConfig> config;
    private final Options options;
    private final RpcMetrics metrics;
    private final TurnBatcher batcher;
    private final EventLoops loops;

    /** Made by {@link RateLimiterService#envoy}, sharing its event loops' turns: both APIs' requests of a turn are decided together. */
    EnvoyRateLimitService(DecisionPath path, Supplier<EnvoyConfig> config, Options options, RpcMetrics metrics, TurnBatcher batcher,
                          EventLoops loops) {
        this.path = path;
        this.config = config;
        this.options = options;
        this.metrics = metrics;
        this.batcher = batcher;
        this.loops = loops;
    }

    /** One descriptor of a request: what applies to it, and, once decided, what it said. */
    private static final class Item {
        final List<EnvoyDomain.Entry> entries;
        final long hits;
        EnvoyLimit limit;
        /** Its index in the verdicts, or -1 when nothing was asked of the store. */
        int verdict = -1;
        /** Refused without asking the store (more hits than a non-counting limit can ever allow). */
        boolean refusedOutright;

        Item(List<EnvoyDomain.Entry> entries, long hits) {
            this.entries = entries;
            this.hits = hits;
        }
    }

    @Override
    public void shouldRateLimit(RateLimitRequest request, StreamObserver<RateLimitResponse> observer) {
        long started = metrics.start();
        Refusal invalid = validate(request);
        EnvoyConfig cfg = config.get();
        if (invalid == null && cfg == null) {
            invalid = new Refusal(Refusal.Code.UNAVAILABLE, "no rate limit configuration loaded");
        }
        if (invalid != null) {
            fail(observer, started, invalid);
            return;
        }
        EnvoyDomain domain = cfg.domain(request.getDomain());
        long requestHits = request.getHitsAddend() == 0 ? 1 : request.getHitsAddend();
        List<Item> items = new ArrayList<>(request.getDescriptorsCount());
        Set<String> replaced = new HashSet<>();
        for (RateLimitDescriptor d : request.getDescriptorsList()) {
            List<EnvoyDomain.Entry> entries = new ArrayList<>(d.getEntriesCount());
            for (RateLimitDescriptor.Entry e : d.getEntriesList()) {
                entries.add(new EnvoyDomain.Entry(e.getKey(), e.getValue()));
            }
            Item item = new Item(entries, d.hasHitsAddend() ? d.getHitsAddend().getValue() : requestHits);
            if (domain != null) {
                item.limit = d.hasLimit() ? EnvoyLimit.override(d.getLimit().getRequestsPerUnit(), unit(d.getLimit().getUnit()))
                        : domain.match(entries);
            }
            if (item.limit != null) {
                replaced.addAll(item.limit.replaces());
            }
            items.add(item);
        }
        List<DecisionEngine.Request> requests = new ArrayList<>();
        List<AppliedLimit> together = new ArrayList<>();
        boolean allOrNothing = domain != null && domain.allOrNothing();
        for (Item item : items) {
            EnvoyLimit l = item.limit;
            if (l != null && !l.name().isEmpty() && replaced.contains(l.name())) {
                item.limit = null;
            }
            if (item.limit == null || item.limit.unlimited()) {
                continue;
            }
            l = item.limit;
            if (!l.counting() && item.hits > l.requestsPerUnit()) {
                item.refusedOutright = true;
                continue;
            }
            AppliedLimit applied = l.applied(request.getDomain(), item.entries, !allOrNothing);
            // A non-counting algorithm asks for at least one unit; zero hits is a question without taking.
            boolean ask = !l.counting() && item.hits == 0;
            long cost = ask ? 1 : item.hits;
            if (allOrNothing) {
                item.verdict = together.size();
                together.add(applied);
                if (together.size() == 1) {
                    requests.add(new DecisionEngine.Request(together, cost, ask, 0));
                }
            } else {
                item.verdict = requests.size();
                requests.add(new DecisionEngine.Request(List.of(applied), cost, ask, 0));
            }
        }
        java.util.concurrent.Executor home = loops.current();
        DecisionPath.Admitted a = path.admitResolved(request.getDomain(), requests, (verdicts, refusal) -> home.execute(() -> {
            if (refusal != null) {
                fail(observer, started, refusal);
                return;
            }
            answer(observer, started, domain, request.getDomain(), items, verdicts, allOrNothing);
        }));
        if (a != null) {
            batcher.decideSoon(a, home);
        }
    }

    private static Refusal validate(RateLimitRequest request) {
        if (request.getDomain().isEmpty()) {
            return new Refusal(Refusal.Code.INVALID_ARGUMENT, "domain: rate limit domain must not be empty");
        }
        if (request.getDescriptorsCount() == 0) {
            return new Refusal(Refusal.Code.INVALID_ARGUMENT, "descriptors: rate limit descriptor list must not be empty");
        }
        for (int i = 0; i < request.getDescriptorsCount(); i++) {
            RateLimitDescriptor d = request.getDescriptors(i);
            if (d.hasLimit() && unit(d.getLimit().getUnit()) == null) {
                return new Refusal(Refusal.Code.INVALID_ARGUMENT, "descriptors[" + i + "].limit.unit: " + d.getLimit().getUnit()
                        + " is not a unit (SECOND, MINUTE, HOUR, DAY, MONTH or YEAR)");
            }
        }
        return null;
    }

    private static EnvoyUnit unit(io.envoyproxy.envoy.type.v3.RateLimitUnit u) {
        return switch (u) {
            case SECOND -> EnvoyUnit.SECOND;
            case MINUTE -> EnvoyUnit.MINUTE;
            case HOUR -> EnvoyUnit.HOUR;
            case DAY -> EnvoyUnit.DAY;
            case MONTH -> EnvoyUnit.MONTH;
            case YEAR -> EnvoyUnit.YEAR;
            default -> null;
        };
    }

    private static RateLimitResponse.RateLimit.Unit wire(EnvoyUnit u) {
        return switch (u) {
            case SECOND -> RateLimitResponse.RateLimit.Unit.SECOND;
            case MINUTE -> RateLimitResponse.RateLimit.Unit.MINUTE;
            case HOUR -> RateLimitResponse.RateLimit.Unit.HOUR;
            case DAY -> RateLimitResponse.RateLimit.Unit.DAY;
            case WEEK -> RateLimitResponse.RateLimit.Unit.WEEK;
            case MONTH -> RateLimitResponse.RateLimit.Unit.MONTH;
            case YEAR -> RateLimitResponse.RateLimit.Unit.YEAR;
        };
    }

    private void answer(StreamObserver<RateLimitResponse> observer, long started, EnvoyDomain envoyDomain, String domain, List<Item> items,
                        List<Verdict> verdicts, boolean allOrNothing) {
        RateLimitResponse.Builder response = RateLimitResponse.newBuilder();
        EnvoyDomain.Headers headers = envoyDomain == null ? EnvoyDomain.Headers.DEFAULT : envoyDomain.headers();
        if (headers == EnvoyDomain.Headers.DEFAULT) {
            headers = options.responseHeaders() ? EnvoyDomain.Headers.RATELIMIT : EnvoyDomain.Headers.NONE;
        }
        StringBuilder ietfPolicy = headers == EnvoyDomain.Headers.IETF ? new StringBuilder() : null;
        StringBuilder ietfState = headers == EnvoyDomain.Headers.IETF ? new StringBuilder() : null;
        boolean over = false;
        RateLimitResponse.DescriptorStatus headerStatus = null;
        long headerReset = 0;
        long fewest = Long.MAX_VALUE;
        for (Item item : items) {
            RateLimitResponse.DescriptorStatus.Builder s = RateLimitResponse.DescriptorStatus.newBuilder();
            EnvoyLimit l = item.limit;
            long reset = 0;
            if (l == null) {
                s.setCode(RateLimitResponse.Code.OK);
            } else if (l.unlimited()) {
                s.setCode(RateLimitResponse.Code.OK).setLimitRemaining((int) UNLIMITED_REMAINING);
            } else {
                boolean allowed;
                long remaining;
                if (item.refusedOutright) {
                    allowed = false;
                    remaining = 0;
                    reset = seconds(l.algorithm().windowNanos());
                } else {
                    Verdict v = verdicts.get(allOrNothing ? 0 : item.verdict);
                    LimitResult r = v.results().get(allOrNothing ? item.verdict : 0);
                    allowed = r.allowed();
                    remaining = r.remaining();
                    reset = seconds(r.resetAfterNanos());
                    path.metrics().limitSaid(r, l.detailedMetric() ? fullKey(domain, item.entries) : "");
                }
                boolean denies = !allowed && !l.shadow();
                over |= denies;
                s.setCode(denies ? RateLimitResponse.Code.OVER_LIMIT : RateLimitResponse.Code.OK)
                        .setCurrentLimit(RateLimitResponse.RateLimit.newBuilder().setName(l.name())
                                .setRequestsPerUnit((int) l.requestsPerUnit()).setUnit(wire(l.unit())))
                        .setLimitRemaining((int) Math.min(UNLIMITED_REMAINING, Math.max(0, remaining)))
                        .setDurationUntilReset(com.google.protobuf.Duration.newBuilder().setSeconds(Math.max(1, reset)));
            }
            RateLimitResponse.DescriptorStatus status = s.build();
            response.addStatuses(status);
            if (ietfPolicy != null && status.hasCurrentLimit() && !l.shadow()) {
                String name = ietfName(l, domain, item.entries);
                if (ietfPolicy.length() > 0) {
                    ietfPolicy.append(", ");
                    ietfState.append(", ");
                }
                ietfPolicy.append('"').append(name).append("\";q=").append(l.requestsPerUnit()).append(";w=")
                        .append(seconds(l.algorithm().windowNanos()));
                ietfState.append('"').append(name).append("\";r=").append(Integer.toUnsignedLong(status.getLimitRemaining()))
                        .append(";t=").append(status.getDurationUntilReset().getSeconds());
            }
            // The headers describe the descriptor closest to its limit, or the last one that is over it.
            if (status.hasCurrentLimit()) {
                long left = Integer.toUnsignedLong(status.getLimitRemaining());
                if (status.getCode() == RateLimitResponse.Code.OVER_LIMIT) {
                    headerStatus = status;
                    headerReset = reset;
                    fewest = -1;
                } else if (fewest >= 0 && left < fewest) {
                    fewest = left;
                    headerStatus = status;
                    headerReset = reset;
                }
            }
        }
        boolean shadowed = over && options.globalShadowMode();
        response.setOverallCode(over && !shadowed ? RateLimitResponse.Code.OVER_LIMIT : RateLimitResponse.Code.OK);
        if (ietfPolicy != null && ietfPolicy.length() > 0) {
            response.addResponseHeadersToAdd(header("RateLimit-Policy", ietfPolicy.toString()));
            response.addResponseHeadersToAdd(header("RateLimit", ietfState.toString()));
        }
        if (headers == EnvoyDomain.Headers.RATELIMIT && headerStatus != null) {
            List<String> names = options.headerNames();
            response.addResponseHeadersToAdd(header(names.get(0), Integer.toUnsignedString(headerStatus.getCurrentLimit()
                    .getRequestsPerUnit())));
            response.addResponseHeadersToAdd(header(names.get(1), Integer.toUnsignedString(headerStatus.getLimitRemaining())));
            response.addResponseHeadersToAdd(header(names.get(2), Long.toString(Math.max(1, headerReset))));
        }
        path.metrics().decided(domain, !over);
        try {
            observer.onNext(response.build());
            observer.onCompleted();
        } catch (RuntimeException e) {
            LOG.log(Level.FINE, "could not send an answer (call cancelled?)", e);
        }
        metrics.answered(RpcMetrics.Rpc.SHOULD_RATE_LIMIT, started, null);
    }

    /**
     * A limit's name in the IETF fields: its {@code name}, else its path in the configuration,
     * as a structured-field string holds it (no quote, backslash or control character).
     */
    private static String ietfName(EnvoyLimit l, String domain, List<EnvoyDomain.Entry> entries) {
        String name = !l.name().isEmpty() ? l.name() : l.meter() != null ? l.meter().limit() : fullKey(domain, entries);
        StringBuilder b = new StringBuilder(name.length());
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
                b.append(c);
            }
        }
        return b.toString();
    }

    /** The request's key as envoyproxy/ratelimit's detailed metrics name it: the domain, then each entry's key_value. */
    private static String fullKey(String domain, List<EnvoyDomain.Entry> entries) {
        StringBuilder b = new StringBuilder(domain);
        for (EnvoyDomain.Entry e : entries) {
            b.append('.').append(e.key()).append('_').append(e.value());
        }
        return b.toString();
    }

    private static HeaderValue header(String name, String value) {
        return HeaderValue.newBuilder().setKey(name).setValue(value).build();
    }

    /** Whole seconds, rounded up, as envoyproxy/ratelimit's resets count them (never 0). */
    private static long seconds(long nanos) {
        return Math.max(1, -Math.floorDiv(-nanos, 1_000_000_000L));
    }

    private void fail(StreamObserver<RateLimitResponse> observer, long started, Refusal refusal) {
        try {
            observer.onError(Statuses.of(refusal).asRuntimeException());
        } catch (RuntimeException e) {
            LOG.log(Level.FINE, "could not send an error (call cancelled?)", e);
        }
        metrics.answered(RpcMetrics.Rpc.SHOULD_RATE_LIMIT, started, refusal.code().name());
    }
}
