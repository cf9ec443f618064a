package dev.sluice.server.cli;

import picocli.CommandLine.Option;

import java.util.LinkedHashMap;
import java.util.Map;

/** The request a command asks about: its domain and descriptors, as every node command names them. */
final class RequestOptions {

    @Option(names = "--domain", required = true, paramLabel = "DOMAIN", description = "the policy domain")
    String domain;

    @Option(names = {"-d", "--descriptor"}, paramLabel = "KEY=VALUE", description = "a descriptor of the request (repeat for more)")
    Map<String, String> descriptors = new LinkedHashMap<>();
}
