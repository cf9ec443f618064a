package dev.sluice.server.node;

/** A start-up setting that cannot be used; the message is one line naming the setting. */
public final class SettingsException extends Exception {

    public SettingsException(String message) {
        super(message, null, false, false);
    }
}
