package dev.sluice.server.policy;

import java.util.Collections;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/** Every domain a node serves, loaded and validated from one policy source. */
public final class Policies {

    private final Map<String, Domain> domains;
    private final CallerPatterns admins;
    private final String source;
    private final String version;
    private final String text;

    Policies(Map<String, Domain> domains, CallerPatterns admins, String source, String version, String text) {
        // One class of map however many domains there are (Map.copyOf's differs for one), so the
        // lookup the node's warm-up compiled is the one every policy file's requests take.
        this.domains = new HashMap<>(domains);
        this.admins = admins;
        this.source = source;
        this.version = version;
        this.text = text;
    }

    /** Whether caller {@code id} holds the admin role (the file's {@code admins:}); an anonymous caller never does. */
    public boolean isAdmin(String id) {
        return admins.matches(id);
    }

    /** The domain of that name, or {@code null}. */
    public Domain domain(String name) {
        return domains.get(name);
    }

    public Set<String> domainNames() {
        return Collections.unmodifiableSet(domains.keySet());
    }

    /** Where the policies came from: a file name, or {@code bundled demo}. */
    public String source() {
        return source;
    }

    /** The text the policies were loaded from. */
    public String text() {
        return text;
    }

    /** A short content hash, to tell which version of a file is in force. */
    public String version() {
        return version;
    }
}
