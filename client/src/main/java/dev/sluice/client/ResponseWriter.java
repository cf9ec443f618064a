package dev.sluice.client;

/**
 * The three things {@link AcquireResult#writeTo} needs from an HTTP response, so the client
 * works with any server: adapt a servlet response, a Netty response, a JDK
 * {@code HttpExchange}, in a few lines.
 */
public interface ResponseWriter {

    /** Sets the response status (only called for a denial). */
    void status(int code);

    /** Adds a response header. */
    void header(String name, String value);

    /** Writes the response body (only called for a denial with a body). */
    void body(String text);
}
