package dev.sluice.server.path;

import dev.sluice.api.v1.AcquireRequest;

import java.util.Map;

/** Checks the shape of a request before any policy sees it; the message names the field. */
public final class RequestValidator {

    static final int MAX_DOMAIN_LENGTH = 128;
    static final int MAX_DESCRIPTORS = 32;
    static final int MAX_DESCRIPTOR_NAME_LENGTH = 64;
    static final int MAX_DESCRIPTOR_VALUE_LENGTH = 512;
    static final int MAX_REQUEST_ID_LENGTH = 128;

    private RequestValidator() {
    }

    /** The problem with {@code request}, or {@code null} if it is well formed. */
    public static String problem(AcquireRequest request) {
        String domain = request.getDomain();
        if (domain.isEmpty()) {
            return "domain: required; name the policy set to apply, e.g. \"demo\"";
        }
        if (domain.length() > MAX_DOMAIN_LENGTH) {
            return "domain: " + domain.length() + " characters, at most " + MAX_DOMAIN_LENGTH + " allowed";
        }
        if (request.getCost() < 0) {
            return "cost: must not be negative, got " + request.getCost();
        }
        int count = request.getDescriptorsCount();
        if (count > MAX_DESCRIPTORS) {
            return "descriptors: " + count + " entries, at most " + MAX_DESCRIPTORS + " allowed";
        }
        for (Map.Entry<String, String> d : request.getDescriptorsMap().entrySet()) {
            String name = d.getKey();
            if (name.isEmpty()) {
                return "descriptors: a descriptor has an empty name";
            }
            if (name.length() > MAX_DESCRIPTOR_NAME_LENGTH) {
                return "descriptors: name \"" + name.substring(0, 16) + "...\" is " + name.length()
                        + " characters, at most " + MAX_DESCRIPTOR_NAME_LENGTH + " allowed";
            }
            if (d.getValue().length() > MAX_DESCRIPTOR_VALUE_LENGTH) {
                return "descriptors[\"" + name + "\"]: value is " + d.getValue().length()
                        + " characters, at most " + MAX_DESCRIPTOR_VALUE_LENGTH + " allowed";
            }
        }
        if (request.getRequestId().length() > MAX_REQUEST_ID_LENGTH) {
            return "request_id: " + request.getRequestId().length() + " characters, at most " + MAX_REQUEST_ID_LENGTH + " allowed";
        }
        return null;
    }
}
