package dev.sluice.client;

/**
 * One HTTP response header to send to the caller, as the policy's dialect writes it (for example
 * {@code RateLimit-Policy}, {@code X-RateLimit-Remaining} or {@code Retry-After}).
 *
 * @param name  the header name
 * @param value the header value, ready to send
 */
public record HttpHeader(String name, String value) {
}
