package dev.sluice.server.policy;

/**
 * A header a policy adds to every response a limit of it speaks for, its value a template with
 * the body's placeholders ({@code ${used}}, {@code ${window}}, a descriptor, a policy value).
 * Control characters in filled-in values are dropped, so a descriptor cannot start a header of its own.
 *
 * @param name  the header's name, as sent
 * @param value its value's template
 */
public record ExtraHeader(String name, BodyTemplate value) {
}
