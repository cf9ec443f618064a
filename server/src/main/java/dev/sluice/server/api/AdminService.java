package dev.sluice.server.api;

import dev.sluice.api.admin.v1.AdminGrpc;
import dev.sluice.api.admin.v1.CheckPolicyRequest;
import dev.sluice.api.admin.v1.CheckPolicyResponse;
import dev.sluice.api.admin.v1.PolicyProblem;
import dev.sluice.api.admin.v1.PolicyRequest;
import dev.sluice.api.admin.v1.PolicyResponse;
import dev.sluice.server.path.Caller;
import dev.sluice.server.policy.Policies;
import dev.sluice.server.policy.PolicyException;
import dev.sluice.server.policy.PolicyLoader;
import dev.sluice.server.policy.Problem;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;

import java.util.TreeSet;
import java.util.function.Supplier;
import java.util.logging.Logger;

/**
 * {@code sluice.admin.v1.Admin}: what operators ask a node by hand. Every call needs a verified
 * caller holding the policy's admin role ({@code admins:}); an anonymous caller is refused
 * UNAUTHENTICATED and a known caller without the role PERMISSION_DENIED, neither told who holds it.
 */
public final class AdminService extends AdminGrpc.AdminImplBase {

    private static final Logger LOG = Logger.getLogger(AdminService.class.getName());

    private final Supplier<Policies> policies;

    public AdminService(Supplier<Policies> policies) {
        this.policies = policies;
    }

    @Override
    public void policy(PolicyRequest request, StreamObserver<PolicyResponse> observer) {
        Policies p = policies.get();
        if (refused("Policy", p, observer)) {
            return;
        }
        observer.onNext(PolicyResponse.newBuilder().setVersion(p.version()).setSource(p.source()).setText(p.text())
                .addAllDomains(new TreeSet<>(p.domainNames())).build());
        observer.onCompleted();
    }

    @Override
    public void checkPolicy(CheckPolicyRequest request, StreamObserver<CheckPolicyResponse> observer) {
        if (refused("CheckPolicy", policies.get(), observer)) {
            return;
        }
        String source = request.getSource().isEmpty() ? "policy" : request.getSource();
        CheckPolicyResponse.Builder answer = CheckPolicyResponse.newBuilder();
        try {
            Policies checked = PolicyLoader.parse(request.getText(), source);
            answer.setValid(true).setVersion(checked.version()).addAllDomains(new TreeSet<>(checked.domainNames()));
        } catch (PolicyException e) {
            for (Problem problem : e.problems()) {
                answer.addProblems(PolicyProblem.newBuilder().setLine(problem.line()).setPath(problem.path()).setMessage(problem.message()));
            }
        }
        observer.onNext(answer.build());
        observer.onCompleted();
    }

    /** Refuses the call unless its caller holds the admin role; answers whether it did. */
    private static boolean refused(String method, Policies in, StreamObserver<?> observer) {
        Caller caller = CallerIdentity.current();
        if (caller.anonymous()) {
            observer.onError(Status.UNAUTHENTICATED.withDescription("the admin API needs a verified caller holding the admin role "
                    + "(a client certificate or bearer token the node verifies, named by the policy's admins:)").asRuntimeException());
            return true;
        }
        if (!in.isAdmin(caller.id())) {
            LOG.fine(() -> "admin " + method + " refused: caller " + caller + " does not hold the admin role");
            observer.onError(Status.PERMISSION_DENIED.withDescription("caller " + caller + " does not hold the admin role")
                    .asRuntimeException());
            return true;
        }
        return false;
    }
}
