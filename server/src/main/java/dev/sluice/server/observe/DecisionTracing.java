package dev.sluice.server.observe;

import dev.sluice.server.engine.LimitResult;
import dev.sluice.server.engine.Verdict;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * A span per decision, continuing the caller's trace when its W3C trace context came with the
 * call, with a child span for the store's part; nothing at all when tracing is off.
 */
public final class DecisionTracing {

    /** Traces nothing. */
    public static final DecisionTracing OFF = new DecisionTracing(null);

    static final AttributeKey<String> DOMAIN = AttributeKey.stringKey("sluice.domain");
    static final AttributeKey<List<String>> RULES = AttributeKey.stringArrayKey("sluice.rules");
    static final AttributeKey<List<String>> LIMITS = AttributeKey.stringArrayKey("sluice.limits");
    static final AttributeKey<String> DECISION = AttributeKey.stringKey("sluice.decision");
    static final AttributeKey<Long> COST = AttributeKey.longKey("sluice.cost");

    private final Tracer tracer;

    public DecisionTracing(Tracer tracer) {
        this.tracer = tracer;
    }

    public boolean on() {
        return tracer != null;
    }

    /** The decision's span, a child of {@code parent} (the caller's context, or {@code null} for a new trace); {@code null} when off. */
    public Span decision(Context parent, String domain, long cost) {
        if (tracer == null) {
            return null;
        }
        return tracer.spanBuilder("sluice.decide").setSpanKind(SpanKind.SERVER).setParent(parent == null ? Context.root() : parent)
                .setAttribute(DOMAIN, domain).setAttribute(COST, cost).startSpan();
    }

    /** The store's span under {@code decision}; {@code null} when there is none. */
    public Span store(Span decision) {
        if (decision == null) {
            return null;
        }
        return tracer.spanBuilder("sluice.store").setSpanKind(SpanKind.CLIENT).setParent(Context.root().with(decision)).startSpan();
    }

    /** Ends {@code store} and {@code decision} with what was decided. */
    public void decided(Span decision, Span store, Verdict verdict) {
        if (decision == null) {
            return;
        }
        store.end();
        Set<String> rules = new LinkedHashSet<>();
        List<String> limits = new ArrayList<>(verdict.results().size());
        for (LimitResult r : verdict.results()) {
            rules.add(r.limit().rule());
            limits.add(r.limit().name());
        }
        decision.setAttribute(RULES, List.copyOf(rules)).setAttribute(LIMITS, limits)
                .setAttribute(DECISION, verdict.allowed() ? "allowed" : "denied").end();
    }

    /** Ends {@code store} and {@code decision} when no decision could be made, with the reason. */
    public void failed(Span decision, Span store, String code, String message) {
        if (decision == null) {
            return;
        }
        if (store != null) {
            store.setStatus(StatusCode.ERROR, code).end();
        }
        decision.setStatus(StatusCode.ERROR, code + ": " + message).end();
    }
}
