package dev.sluice.server.architecture;

import com.tngtech.archunit.base.DescribedPredicate;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

/**
 * The boundaries the architecture draws (docs/architecture.md), checked on the node's compiled
 * classes so that they survive the next hurried change.
 */
class ArchitectureTest {

    private static JavaClasses node;

    @BeforeAll
    static void importTheNode() {
        node = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .importPackages("dev.sluice.server");
    }

    @Test
    void algorithmsUseTheJdkAlone() {
        classes().that().resideInAPackage("dev.sluice.server.algorithm..")
                .should().onlyDependOnClassesThat().resideInAnyPackage("dev.sluice.server.algorithm..", "java..")
                .because("the algorithms are pure integer arithmetic driven by the time they are given")
                .check(node);
    }

    @Test
    void nothingBelowTheApiKnowsGrpc() {
        noClasses().that().resideInAnyPackage("dev.sluice.server.policy..", "dev.sluice.server.engine..", "dev.sluice.server.store..",
                        "dev.sluice.server.algorithm..", "dev.sluice.server.path..", "dev.sluice.server.time..")
                .should().dependOnClassesThat().resideInAPackage("io.grpc..")
                .because("gRPC is one adapter of the decision path; Envoy's API and tools reach the same path without it")
                .check(node);
    }

    @Test
    void hazelcastStaysInTheStoreAndTheNode() {
        noClasses().that().resideOutsideOfPackages("dev.sluice.server.store..", "dev.sluice.server.node..")
                .should().dependOnClassesThat().resideInAPackage("com.hazelcast..")
                .because("the engine talks to the storage port; Hazelcast's exceptions become StoreExceptions in the store")
                .check(node);
    }

    @Test
    void hazelcastsInternalsStayInMapCallsAndAsyncCompletions() {
        DescribedPredicate<JavaClass> fenced = DescribedPredicate.describe("MapCalls or AsyncCompletions",
                c -> c.getName().startsWith("dev.sluice.server.store.MapCalls") || c.getName().startsWith("dev.sluice.server.store.AsyncCompletions"));
        noClasses().that().resideInAPackage("dev.sluice.server..").and(DescribedPredicate.not(fenced))
                .should().dependOnClassesThat().resideInAnyPackage("com.hazelcast.internal..", "com.hazelcast..impl..")
                .because("a Hazelcast upgrade is triaged by switching the store to the public API (--hazelcast-internals false)")
                .check(node);
    }

    @Test
    void nettysInternalsAreNotReached() {
        noClasses().that().resideInAPackage("dev.sluice.server..")
                .should().dependOnClassesThat().resideInAPackage("io.grpc.netty.shaded.io.netty.util.internal..")
                .check(node);
    }

    @Test
    void packagesFormNoCycle() {
        slices().matching("dev.sluice.server.(*)..").should().beFreeOfCycles().check(node);
    }
}
