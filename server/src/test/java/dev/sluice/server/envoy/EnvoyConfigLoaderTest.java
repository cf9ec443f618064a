package dev.sluice.server.envoy;

import dev.sluice.server.policy.PolicyException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * envoyproxy/ratelimit's configuration files, loaded as that service loads them: the invalid ones
 * refused with its messages (with the line added), the valid ones matched as it matches them.
 */
class EnvoyConfigLoaderTest {

    static Path resources(String dir) {
        for (Path d = Path.of("").toAbsolutePath(); d != null; d = d.getParent()) {
            Path candidate = d.resolve("src/test/resources/envoy").resolve(dir);
            if (Files.isDirectory(candidate)) {
                return candidate;
            }
            candidate = d.resolve("server/src/test/resources/envoy").resolve(dir);
            if (Files.isDirectory(candidate)) {
                return candidate;
            }
        }
        throw new AssertionError("envoy fixtures not found");
    }

    private static EnvoyConfig conformance() throws Exception {
        return EnvoyConfigLoader.load(resources("conformance"));
    }

    private static List<EnvoyDomain.Entry> entries(String... kv) {
        java.util.ArrayList<EnvoyDomain.Entry> out = new java.util.ArrayList<>();
        for (int i = 0; i < kv.length; i += 2) {
            out.add(new EnvoyDomain.Entry(kv[i], kv[i + 1]));
        }
        return out;
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "bad_limit_unit.yaml | bad_limit_unit.yaml:6: invalid rate limit unit 'foo'",
        "bad_yaml.yaml | bad_yaml.yaml:2: error loading config file: found unexpected end of stream",
        "duplicate_key.yaml | duplicate_key.yaml:5: duplicate descriptor composite key 'test-domain.key1_value1'",
        "empty_domain.yaml | empty_domain.yaml:1: config file cannot have empty domain",
        "empty_key.yaml | empty_key.yaml:3: descriptor has empty key",
        "misspelled_key.yaml | misspelled_key.yaml:5: config error, unknown key 'ratelimit'",
        "misspelled_key2.yaml | misspelled_key2.yaml:6: config error, unknown key 'requestsperunit'",
        "non_map_list.yaml | non_map_list.yaml:3: config error, yaml file contains list of type other than map: a",
        "non_string_key.yaml | non_string_key.yaml:1: config error, key is not of type string: 0.25",
        "replaces_empty.yaml | replaces_empty.yaml:10: should not have an empty replaces entry",
        "replaces_self.yaml | replaces_self.yaml:10: replaces should not contain name of same descriptor",
        "unlimited_with_unit.yaml | unlimited_with_unit.yaml:6: should not specify rate limit unit when unlimited",
        "float_value.yaml | float_value.yaml:6: error checking config: '2.5' is a number with a fraction",
        "bad_response_headers.yaml | bad_response_headers.yaml:2: error loading config file: response_headers must be ratelimit, ietf or none, not 'x-ratelimit'",
        "zone_on_seconds.yaml | zone_on_seconds.yaml:7: zone applies to the units day, week and month, not second",
        "negative.yaml | negative.yaml:6: error loading config file: requests_per_unit must be a whole number from 0 to 4294967295, not '-1'"})
    void anInvalidFileIsRefusedWithItsNameLineAndReason(String file, String expected) throws Exception {
        Path p = resources("invalid").resolve(file);
        PolicyException e = assertThrows(PolicyException.class, () -> EnvoyConfigLoader.load(p));
        assertTrue(e.problems().get(0).toString().startsWith(expected.replace(file + ":", p.getFileName() + ":")), e.report());
    }

    @Test
    void aSecondFileForTheSameDomainIsADuplicate() {
        Map<String, byte[]> files = new LinkedHashMap<>();
        files.put("basic.yaml", "domain: test-domain\ndescriptors:\n  - key: k\n".getBytes(StandardCharsets.UTF_8));
        files.put("duplicate_domain.yaml", "domain: test-domain\ndescriptors:\n".getBytes(StandardCharsets.UTF_8));
        PolicyException e = assertThrows(PolicyException.class, () -> EnvoyConfigLoader.parse(files, "dir"));
        assertEquals("duplicate_domain.yaml:1: duplicate domain 'test-domain' in config file", e.problems().get(0).toString());
    }

    @Test
    void descriptorsAreMatchedAsEnvoyproxyRatelimitMatchesThem() throws Exception {
        EnvoyDomain d = conformance().domain("test-domain");
        assertNull(d.match(entries("key1", "something")), "no such entry");
        assertNull(d.match(entries("key1", "value1")), "an entry without a limit");
        assertNull(d.match(entries("key2", "value2", "subkey", "subvalue")), "no going back to the key-only key2");
        assertNull(d.match(entries("key5", "value5", "subkey5", "subvalue")), "the child's value does not match");
        assertNull(d.match(entries("key2", "value3")), "a valued entry without a limit is allow-listed");
        assertNull(d.match(List.of()), "an empty descriptor");
        assertEquals(5, d.match(entries("key1", "value1", "subkey1", "something")).requestsPerUnit());
        assertEquals(EnvoyUnit.SECOND, d.match(entries("key1", "value1", "subkey1", "something")).unit());
        assertEquals(10, d.match(entries("key1", "value1", "subkey1", "subvalue1")).requestsPerUnit());
        assertEquals(20, d.match(entries("key2", "something")).requestsPerUnit());
        assertEquals(30, d.match(entries("key2", "value2")).requestsPerUnit());
        assertEquals(EnvoyUnit.HOUR, d.match(entries("key3", "foo")).unit());
        assertEquals("", d.match(entries("key3", "foo")).name());
        assertEquals("key4_rate_limit", d.match(entries("key4", "foo")).name());
        assertTrue(d.match(entries("key6", "foo")).unlimited());
        assertTrue(d.match(entries("key7", "unspecified_value")).detailedMetric());
        assertEquals(15, d.match(entries("key5", "value5")).requestsPerUnit(), "a shorter descriptor gets the limit where it ends");
        assertEquals(25, d.match(entries("key5", "value5", "subkey5", "subvalue5")).requestsPerUnit());
        assertNull(d.match(entries("key5", "value5", "subkey5", "subvalue5", "deeper", "x")), "longer than any path");
    }

    @Test
    void wildcardsMatchKeyAndValueTogether() throws Exception {
        EnvoyDomain d = conformance().domain("wildcard");
        assertEquals(20, d.match(entries("wild", "foo1")).requestsPerUnit());
        assertEquals(20, d.match(entries("wild", "foo")).requestsPerUnit(), "'*' matches nothing too");
        assertNull(d.match(entries("wild", "bar")));
        assertNull(d.match(entries("noWild", "foo1")), "a literal value matches itself alone");
        assertEquals(20, d.match(entries("noVal", "anything")).requestsPerUnit());
        for (String v : List.of("barab", "bar123b", "barb")) {
            assertEquals(20, d.match(entries("midWild", v)).requestsPerUnit(), v);
        }
        for (String v : List.of("bara", "xbarb")) {
            assertNull(d.match(entries("midWild", v)), v);
        }
        for (String v : List.of("foo123bar456baz", "foobarbaz")) {
            assertEquals(10, d.match(entries("multiWild", v)).requestsPerUnit(), v);
        }
        for (String v : List.of("foo123baz", "bar456baz")) {
            assertNull(d.match(entries("multiWild", v)), v);
        }
        assertEquals(20, d.match(entries("nestedWild", "val1", "wild", "goo2")).requestsPerUnit());
        assertEquals(2, d.match(entries("either", "x")).requestsPerUnit(), "a '*' value wins over the key-only entry");
        assertEquals(2, d.match(entries("either", "")).requestsPerUnit(), "and matches the empty value");
    }
}
