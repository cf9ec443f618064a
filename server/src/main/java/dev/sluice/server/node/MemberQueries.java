package dev.sluice.server.node;

import com.hazelcast.cluster.Member;
import com.hazelcast.config.Config;
import com.hazelcast.config.ExecutorConfig;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.core.HazelcastInstanceAware;
import com.hazelcast.core.IExecutorService;
import com.hazelcast.nio.ObjectDataInput;
import com.hazelcast.nio.ObjectDataOutput;
import com.hazelcast.nio.serialization.DataSerializableFactory;
import com.hazelcast.nio.serialization.IdentifiedDataSerializable;
import dev.sluice.server.api.ClusterAdmin;
import dev.sluice.server.observe.KeyCounts;
import dev.sluice.server.observe.TopKeys;
import dev.sluice.server.store.BucketStore;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * Questions the admin API asks every member: how it is (its {@link Report}) and its heaviest keys
 * of a domain. Each runs on the member asked, on an executor of one thread of its own, as a task
 * the member answers from its {@link Local} side; a member that does not answer in time is named
 * as missing, never waited for past the deadline.
 */
public final class MemberQueries implements ClusterAdmin {

    /** Hazelcast factory id of the tasks and their answers; must be the same on every member. */
    public static final int FACTORY_ID = 0x51CF;

    private static final String EXECUTOR = "sluice-admin";
    private static final String USER_CONTEXT_KEY = "sluice.member";
    private static final int STATUS_TASK = 1;
    private static final int REPORT = 2;
    private static final int TOP_KEYS_TASK = 3;
    private static final int KEY_COUNTS = 4;
    private static final int FIGURES_TASK = 5;
    private static final int FIGURES = 6;

    /** What a member answers from: its own state. */
    interface Local {
        Report report();

        KeyCounts topKeys(String domain, TopKeys.By by);

        Map<String, Long> figures();
    }

    private final HazelcastInstance hazelcast;
    private final BucketStore store;
    private final long timeoutMillis;

    MemberQueries(HazelcastInstance hazelcast, BucketStore store, long timeoutMillis) {
        this.hazelcast = hazelcast;
        this.store = store;
        this.timeoutMillis = timeoutMillis;
    }

    @Override
    public Owner owner(String bucketName) {
        Member m = store.owner(bucketName);
        return m == null ? new Owner("", "") : new Owner(m.getAddress().toString(), m.getUuid().toString());
    }

    @Override
    public String state() {
        return hazelcast.getCluster().getClusterState().name();
    }

    @Override
    public boolean safe() {
        return hazelcast.getPartitionService().isClusterSafe();
    }

    @Override
    public int partitions() {
        return hazelcast.getPartitionService().getPartitions().size();
    }

    /** Registers the tasks' serialization, their executor and the member's local side on a member's configuration. */
    static void prepare(Config config, java.util.function.Supplier<Local> local) {
        config.getSerializationConfig().addDataSerializableFactory(FACTORY_ID, new Factory());
        config.addExecutorConfig(new ExecutorConfig(EXECUTOR).setPoolSize(1).setStatisticsEnabled(false));
        config.getUserContext().put(USER_CONTEXT_KEY, local);
    }

    @Override
    public CompletableFuture<List<MemberAnswer<Report>>> reports() {
        return ask(new StatusTask(), r -> ((ReportData) r).report);
    }

    @Override
    public CompletableFuture<List<MemberAnswer<KeyCounts>>> topKeys(String domain, TopKeys.By by) {
        return ask(new TopKeysTask(domain, by), r -> ((KeyCountsData) r).counts);
    }

    @Override
    public CompletableFuture<List<MemberAnswer<Map<String, Long>>>> figures() {
        return ask(new FiguresTask(), r -> ((FiguresData) r).figures);
    }

    private <T> CompletableFuture<List<MemberAnswer<T>>> ask(Callable<Object> task, java.util.function.Function<Object, T> unwrap) {
        IExecutorService executor = hazelcast.getExecutorService(EXECUTOR);
        Map<Member, Future<Object>> futures = new LinkedHashMap<>();
        for (Member m : hazelcast.getCluster().getMembers()) {
            futures.put(m, executor.submitToMember(task, m));
        }
        return CompletableFuture.supplyAsync(() -> {
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
            List<MemberAnswer<T>> out = new ArrayList<>(futures.size());
            futures.forEach((member, f) -> {
                try {
                    long left = Math.max(0, deadline - System.nanoTime());
                    out.add(answer(member, unwrap.apply(f.get(left, TimeUnit.NANOSECONDS)), null));
                } catch (java.util.concurrent.TimeoutException e) {
                    f.cancel(true);
                    out.add(answer(member, null, "did not answer within " + timeoutMillis + " ms"));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    out.add(answer(member, null, "interrupted"));
                } catch (java.util.concurrent.ExecutionException | RuntimeException e) {
                    Throwable cause = e.getCause() != null ? e.getCause() : e;
                    out.add(answer(member, null, cause.getClass().getSimpleName() + ": " + cause.getMessage()));
                }
            });
            return out;
        }, QUERY_THREAD);
    }

    private static <T> MemberAnswer<T> answer(Member m, T answer, String error) {
        return new MemberAnswer<>(m.getUuid().toString(), m.getAddress().toString(), m.localMember(), answer, error);
    }

    /** Waits for members' answers off the gRPC threads; one daemon thread made when first needed. */
    private static final java.util.concurrent.Executor QUERY_THREAD = java.util.concurrent.Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "sluice-admin-queries");
        t.setDaemon(true);
        return t;
    });

    @SuppressWarnings("unchecked")
    private static Local local(HazelcastInstance hz) {
        return ((java.util.function.Supplier<Local>) hz.getUserContext().get(USER_CONTEXT_KEY)).get();
    }

    private abstract static class Task implements Callable<Object>, IdentifiedDataSerializable, HazelcastInstanceAware {
        transient HazelcastInstance hazelcast;

        @Override
        public void setHazelcastInstance(HazelcastInstance hazelcastInstance) {
            this.hazelcast = hazelcastInstance;
        }

        @Override
        public int getFactoryId() {
            return FACTORY_ID;
        }
    }

    static final class StatusTask extends Task {
        @Override
        public Object call() {
            Local l = local(hazelcast);
            if (l == null) {
                throw new IllegalStateException("the member is still starting");
            }
            return new ReportData(l.report());
        }

        @Override
        public void writeData(ObjectDataOutput out) {
        }

        @Override
        public void readData(ObjectDataInput in) {
        }

        @Override
        public int getClassId() {
            return STATUS_TASK;
        }
    }

    static final class TopKeysTask extends Task {
        private String domain;
        private TopKeys.By by;

        TopKeysTask() {
        }

        TopKeysTask(String domain, TopKeys.By by) {
            this.domain = domain;
            this.by = by;
        }

        @Override
        public Object call() {
            Local l = local(hazelcast);
            return new KeyCountsData(l == null ? KeyCounts.EMPTY : l.topKeys(domain, by));
        }

        @Override
        public void writeData(ObjectDataOutput out) throws IOException {
            out.writeString(domain);
            out.writeByte(by.ordinal());
        }

        @Override
        public void readData(ObjectDataInput in) throws IOException {
            domain = in.readString();
            by = TopKeys.By.values()[in.readByte()];
        }

        @Override
        public int getClassId() {
            return TOP_KEYS_TASK;
        }
    }

    static final class FiguresTask extends Task {
        @Override
        public Object call() {
            Local l = local(hazelcast);
            return new FiguresData(l == null ? Map.of() : l.figures());
        }

        @Override
        public void writeData(ObjectDataOutput out) {
        }

        @Override
        public void readData(ObjectDataInput in) {
        }

        @Override
        public int getClassId() {
            return FIGURES_TASK;
        }
    }

    static final class FiguresData implements IdentifiedDataSerializable {
        Map<String, Long> figures;

        FiguresData() {
        }

        FiguresData(Map<String, Long> figures) {
            this.figures = figures;
        }

        @Override
        public void writeData(ObjectDataOutput out) throws IOException {
            out.writeInt(figures.size());
            for (Map.Entry<String, Long> e : figures.entrySet()) {
                out.writeString(e.getKey());
                out.writeLong(e.getValue());
            }
        }

        @Override
        public void readData(ObjectDataInput in) throws IOException {
            int n = in.readInt();
            Map<String, Long> read = new LinkedHashMap<>(n * 2);
            for (int i = 0; i < n; i++) {
                read.put(in.readString(), in.readLong());
            }
            figures = read;
        }

        @Override
        public int getFactoryId() {
            return FACTORY_ID;
        }

        @Override
        public int getClassId() {
            return FIGURES;
        }
    }

    static final class ReportData implements IdentifiedDataSerializable {
        Report report;

        ReportData() {
        }

        ReportData(Report report) {
            this.report = report;
        }

        @Override
        public void writeData(ObjectDataOutput out) throws IOException {
            Report r = report;
            out.writeString(r.grpcAddress());
            out.writeString(r.state());
            out.writeInt(r.ownedPartitions());
            out.writeLong(r.ownedBuckets());
            out.writeLong(r.backupBuckets());
            out.writeString(r.policyVersion());
            out.writeLong(r.clockOffsetMillis());
            out.writeLong(r.uptimeMillis());
            out.writeString(r.version());
        }

        @Override
        public void readData(ObjectDataInput in) throws IOException {
            report = new Report(in.readString(), in.readString(), in.readInt(), in.readLong(), in.readLong(), in.readString(),
                    in.readLong(), in.readLong(), in.readString());
        }

        @Override
        public int getFactoryId() {
            return FACTORY_ID;
        }

        @Override
        public int getClassId() {
            return REPORT;
        }
    }

    static final class KeyCountsData implements IdentifiedDataSerializable {
        KeyCounts counts;

        KeyCountsData() {
        }

        KeyCountsData(KeyCounts counts) {
            this.counts = counts;
        }

        @Override
        public void writeData(ObjectDataOutput out) throws IOException {
            out.writeLong(counts.floor());
            out.writeLong(counts.total());
            out.writeLong(counts.bound());
            out.writeInt(counts.entries().size());
            for (KeyCounts.Entry e : counts.entries()) {
                out.writeString(e.key());
                out.writeLong(e.count());
                out.writeLong(e.error());
            }
        }

        @Override
        public void readData(ObjectDataInput in) throws IOException {
            long floor = in.readLong();
            long total = in.readLong();
            long bound = in.readLong();
            int n = in.readInt();
            List<KeyCounts.Entry> entries = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                entries.add(new KeyCounts.Entry(in.readString(), in.readLong(), in.readLong()));
            }
            counts = new KeyCounts(entries, floor, total, bound);
        }

        @Override
        public int getFactoryId() {
            return FACTORY_ID;
        }

        @Override
        public int getClassId() {
            return KEY_COUNTS;
        }
    }

    private static final class Factory implements DataSerializableFactory {
        @Override
        public IdentifiedDataSerializable create(int typeId) {
            return switch (typeId) {
                case STATUS_TASK -> new StatusTask();
                case REPORT -> new ReportData();
                case TOP_KEYS_TASK -> new TopKeysTask();
                case KEY_COUNTS -> new KeyCountsData();
                case FIGURES_TASK -> new FiguresTask();
                case FIGURES -> new FiguresData();
                default -> null;
            };
        }
    }
}
