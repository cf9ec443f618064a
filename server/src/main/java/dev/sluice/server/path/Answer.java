package dev.sluice.server.path;

import dev.sluice.api.v1.AcquireResponse;

/** Where the answer to one request goes: exactly once, a response or a refusal (the other null). */
@FunctionalInterface
public interface Answer {

    void accept(AcquireResponse response, Refusal refusal);
}
