package dev.sluice.server.policy;

import java.util.Set;
import java.util.regex.Pattern;

/** A condition on one descriptor's value ({@code null} when the descriptor is absent). */
sealed interface Condition {

    boolean test(String value);

    record Exact(String expected) implements Condition {
        @Override
        public boolean test(String value) {
            return expected.equals(value);
        }
    }

    record OneOf(Set<String> values) implements Condition {
        @Override
        public boolean test(String value) {
            return value != null && values.contains(value);
        }
    }

    record Prefix(String prefix) implements Condition {
        @Override
        public boolean test(String value) {
            return value != null && value.startsWith(prefix);
        }
    }

    /** {@code *} matches any run of characters, {@code ?} any one character. */
    record Glob(String glob, Pattern pattern) implements Condition {
        static Glob of(String glob) {
            StringBuilder regex = new StringBuilder();
            for (int i = 0; i < glob.length(); i++) {
                char c = glob.charAt(i);
                if (c == '*') {
                    regex.append(".*");
                } else if (c == '?') {
                    regex.append('.');
                } else {
                    regex.append(Pattern.quote(String.valueOf(c)));
                }
            }
            return new Glob(glob, Pattern.compile(regex.toString(), Pattern.DOTALL));
        }

        @Override
        public boolean test(String value) {
            return value != null && pattern.matcher(value).matches();
        }
    }

    record AllOf(java.util.List<Condition> all) implements Condition {
        @Override
        public boolean test(String value) {
            for (Condition c : all) {
                if (!c.test(value)) {
                    return false;
                }
            }
            return true;
        }
    }

    record AnyOf(java.util.List<Condition> any) implements Condition {
        @Override
        public boolean test(String value) {
            for (Condition c : any) {
                if (c.test(value)) {
                    return true;
                }
            }
            return false;
        }
    }

    record Not(Condition inner) implements Condition {
        @Override
        public boolean test(String value) {
            return !inner.test(value);
        }
    }

    record Present(boolean present) implements Condition {
        @Override
        public boolean test(String value) {
            return (value != null) == present;
        }
    }
}
