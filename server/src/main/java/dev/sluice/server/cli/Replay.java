package dev.sluice.server.cli;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import dev.sluice.api.v1.AcquireRequest;
import dev.sluice.api.v1.AcquireResponse;
import dev.sluice.api.v1.Decision;
import dev.sluice.api.v1.LimitStatus;
import dev.sluice.server.engine.DecisionEngine;
import dev.sluice.server.path.Caller;
import dev.sluice.server.path.DecisionPath;
import dev.sluice.server.path.Refusal;
import dev.sluice.server.policy.Policies;
import dev.sluice.server.store.MemoryBuckets;
import dev.sluice.server.store.StoreContext;
import dev.sluice.server.time.ManualClock;

import java.io.BufferedReader;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * Replays a recorded request log through the real decision path on the in-memory store, on the
 * log's own clock: what a policy would have allowed and denied, limit by limit. The log is JSON
 * lines, one request each: {@code {"time": "2026-12-01T10:00:00.250Z", "domain": "api",
 * "descriptors": {"user": "u1"}, "cost": 1}}, with {@code time} an RFC 3339 instant or epoch
 * milliseconds, {@code cost} 1 when left out; blank lines are skipped. A line earlier than the one
 * before it is decided at the time already reached (the clock never goes back) and counted.
 */
final class Replay {

    /** A line of the log that cannot be replayed: where, and what is wrong with it. */
    static final class BadLine extends Exception {
        BadLine(String source, long line, String reason) {
            super(source + ":" + line + ": " + reason);
        }
    }

    /** Counts for one limit: requests it allowed and denied (a shadow limit's denials are what it would deny). */
    static final class Counts {
        long allowed;
        long denied;
    }

    /** What the replay found. */
    static final class Report {
        long requests;
        long allowed;
        long denied;
        long outOfOrder;
        final Map<String, Long> refused = new TreeMap<>();
        final Map<String, Counts> limits = new TreeMap<>();
        Instant first;
        Instant last;
    }

    private final JsonFactory json = new JsonFactory();
    private final ManualClock clock = ManualClock.fixed();
    private final ScheduledThreadPoolExecutor followUps = new InlineFollowUps();
    private final DecisionPath path;

    Replay(Policies policies) {
        MemoryBuckets buckets = new MemoryBuckets(new StoreContext(clock, Duration.ofSeconds(5), Duration.ofSeconds(10)));
        this.path = new DecisionPath(() -> policies, new DecisionEngine(buckets, followUps), clock, Integer.MAX_VALUE);
    }

    Report run(BufferedReader log, String source) throws IOException, BadLine {
        Report report = new Report();
        long line = 0;
        long now = Long.MIN_VALUE;
        try {
            for (String text = log.readLine(); text != null; text = log.readLine()) {
                line++;
                if (text.isBlank()) {
                    continue;
                }
                Parsed p = parse(text, source, line);
                long at = p.at.getEpochSecond() * 1_000_000_000L + p.at.getNano();
                if (at < now) {
                    report.outOfOrder++;
                } else {
                    now = at;
                    clock.set(p.at);
                }
                if (report.first == null) {
                    report.first = p.at;
                }
                report.last = p.at;
                decide(p.request, report, source, line);
            }
        } finally {
            followUps.shutdownNow();
        }
        return report;
    }

    private void decide(AcquireRequest request, Report report, String source, long line) throws BadLine {
        CompletableFuture<Object> outcome = new CompletableFuture<>();
        DecisionPath.Admitted admitted = path.admit(Caller.ANONYMOUS, request, false,
                (response, refusal) -> outcome.complete(response != null ? response : refusal));
        if (admitted != null) {
            path.decide(List.of(admitted));
        }
        Object o;
        try {
            o = outcome.get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new BadLine(source, line, "the request was not decided: " + e);
        }
        report.requests++;
        if (o instanceof Refusal r) {
            report.refused.merge(r.code() + ": " + r.message(), 1L, Long::sum);
            return;
        }
        AcquireResponse response = (AcquireResponse) o;
        if (response.getDecision() == Decision.ALLOWED) {
            report.allowed++;
        } else {
            report.denied++;
        }
        for (LimitStatus l : response.getLimitsList()) {
            Counts c = report.limits.computeIfAbsent(request.getDomain() + "/" + l.getName(), k -> new Counts());
            if (l.getDecision() == Decision.ALLOWED) {
                c.allowed++;
            } else {
                c.denied++;
            }
        }
    }

    /**
     * Runs the give-backs a denial starts on the replaying thread, before the next line: the
     * replay is one request after another, and a hop to another thread for each denial was most
     * of its time. The engine's timeout for them is still scheduled (and cancelled at once).
     */
    private static final class InlineFollowUps extends ScheduledThreadPoolExecutor {
        InlineFollowUps() {
            super(1, r -> {
                Thread t = new Thread(r, "sluice-replay-follow-ups");
                t.setDaemon(true);
                return t;
            });
            setRemoveOnCancelPolicy(true);
        }

        @Override
        public void execute(Runnable command) {
            command.run();
        }
    }

    private record Parsed(Instant at, AcquireRequest request) {
    }

    private Parsed parse(String text, String source, long line) throws IOException, BadLine {
        Instant at = null;
        AcquireRequest.Builder b = AcquireRequest.newBuilder().setCost(1);
        boolean domain = false;
        try (JsonParser p = json.createParser(text)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                throw new BadLine(source, line, "not a JSON object");
            }
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String field = p.currentName();
                JsonToken value = p.nextToken();
                switch (field) {
                    case "time" -> at = time(p, value, source, line);
                    case "domain" -> {
                        if (value != JsonToken.VALUE_STRING) {
                            throw new BadLine(source, line, "domain: a string is needed");
                        }
                        b.setDomain(p.getText());
                        domain = true;
                    }
                    case "cost" -> {
                        if (value != JsonToken.VALUE_NUMBER_INT) {
                            throw new BadLine(source, line, "cost: a whole number is needed, got " + p.getText());
                        }
                        b.setCost(p.getLongValue());
                    }
                    case "descriptors" -> {
                        if (value != JsonToken.START_OBJECT) {
                            throw new BadLine(source, line, "descriptors: an object of names to strings is needed");
                        }
                        while (p.nextToken() == JsonToken.FIELD_NAME) {
                            String name = p.currentName();
                            if (p.nextToken() != JsonToken.VALUE_STRING) {
                                throw new BadLine(source, line, "descriptors." + name + ": a string is needed, got " + p.getText());
                            }
                            b.putDescriptors(name, p.getText());
                        }
                    }
                    default -> p.skipChildren();
                }
            }
        } catch (JsonParseException e) {
            throw new BadLine(source, line, "not valid JSON: " + e.getOriginalMessage());
        }
        if (at == null) {
            throw new BadLine(source, line, "time is missing");
        }
        if (!domain) {
            throw new BadLine(source, line, "domain is missing");
        }
        return new Parsed(at, b.build());
    }

    private static Instant time(JsonParser p, JsonToken value, String source, long line) throws IOException, BadLine {
        if (value == JsonToken.VALUE_NUMBER_INT) {
            return Instant.ofEpochMilli(p.getLongValue());
        }
        if (value == JsonToken.VALUE_STRING) {
            try {
                return Instant.parse(p.getText());
            } catch (DateTimeParseException e) {
                throw new BadLine(source, line, "time: not an RFC 3339 instant (like 2026-12-01T10:00:00.250Z): " + p.getText());
            }
        }
        throw new BadLine(source, line, "time: an RFC 3339 instant or epoch milliseconds is needed, got " + p.getText());
    }
}
