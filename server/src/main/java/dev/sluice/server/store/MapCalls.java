package dev.sluice.server.store;

import com.hazelcast.internal.partition.IPartitionService;
import com.hazelcast.internal.serialization.Data;
import com.hazelcast.internal.serialization.SerializationService;
import com.hazelcast.internal.util.ThreadUtil;
import com.hazelcast.map.EntryProcessor;
import com.hazelcast.map.IMap;
import com.hazelcast.map.impl.MapService;
import com.hazelcast.map.impl.proxy.MapProxyImpl;
import com.hazelcast.spi.impl.NodeEngine;
import com.hazelcast.spi.impl.PartitionSpecificRunnable;
import com.hazelcast.spi.impl.operationexecutor.OperationExecutor;
import com.hazelcast.spi.impl.operationservice.impl.OperationServiceImpl;
import com.hazelcast.spi.properties.ClusterProperty;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;

/**
 * How entry-processor calls on the bucket map reach Hazelcast: the one class of the store that
 * uses Hazelcast's internals ({@link #of} with {@code internals} false uses its public API alone,
 * so that a Hazelcast upgrade can be triaged by switching them off).
 *
 * <p>With internals, calls go through the member's own invocation machinery and their answers are
 * read in place. A member runs a partition's operations on the partition thread serving it,
 * taking them from a queue whose consumer sleeps when the queue is empty and must be woken by
 * whoever adds to it. Calls handed over one by one from a gRPC event loop wake a thread that has
 * just emptied its queue again for nearly every call: in a profile of unary load that waking and
 * sleeping was a third of the node's CPU. {@link #startTogether} therefore hands each partition
 * thread one task per batch, and the task starts the batch's calls for that thread's partitions
 * from the thread itself; they join its own queue, so it is woken once per batch instead of once
 * per call.
 *
 * <p>Through the public API, every call is an {@link IMap#submitToKey} from the caller's thread.
 */
abstract class MapCalls {

    /** Completes callbacks on the thread that completes Hazelcast's future: no hop, no new thread. */
    static final Executor DIRECT = Runnable::run;

    /** A call to start with others: its key and processor, and what to do with its answer once started. */
    abstract static class Call<R> {
        final BucketKey key;
        final EntryProcessor<BucketKey, BucketRecord, R> processor;
        private Data keyData;
        private int partitionId;

        Call(BucketKey key, EntryProcessor<BucketKey, BucketRecord, R> processor) {
            this.key = key;
            this.processor = processor;
        }

        /** Called once, on the thread that started the call, with its answer to come. */
        abstract void started(CompletionStage<R> answer);
    }

    /** Calls on {@code map}: through the member's internals when asked and the map is a member's, else the public API. */
    static MapCalls of(IMap<BucketKey, BucketRecord> map, boolean internals, StoreStats stats) {
        if (internals && map instanceof MapProxyImpl<BucketKey, BucketRecord> proxy) {
            return new Internal(proxy, stats);
        }
        return new PublicApi(map);
    }

    /** Whether calls go through Hazelcast's internals. */
    abstract boolean internals();

    /** Runs {@code processor} on the key's owner, from any thread. */
    abstract <R> CompletionStage<R> call(BucketKey key, EntryProcessor<BucketKey, BucketRecord, R> processor);

    /** Starts every call in {@code calls}, each one's answer given to its {@link Call#started}. */
    abstract void startTogether(List<? extends Call<?>> calls);

    /** Starts {@code c} on this thread through {@link #call}; a call that cannot start is answered with its failure. */
    final <R> void startHere(Call<R> c) {
        CompletionStage<R> answer;
        try {
            answer = call(c.key, c.processor);
        } catch (RuntimeException e) {
            answer = CompletableFuture.failedFuture(e);
        }
        c.started(answer);
    }

    /** Hazelcast's public API alone. */
    private static final class PublicApi extends MapCalls {
        private final IMap<BucketKey, BucketRecord> map;

        PublicApi(IMap<BucketKey, BucketRecord> map) {
            this.map = map;
        }

        @Override
        boolean internals() {
            return false;
        }

        @Override
        <R> CompletionStage<R> call(BucketKey key, EntryProcessor<BucketKey, BucketRecord, R> processor) {
            return map.submitToKey(key, processor);
        }

        @Override
        void startTogether(List<? extends Call<?>> calls) {
            calls.forEach(this::startHere);
        }
    }

    /** The member's own invocation machinery: see the class comment. */
    private static final class Internal extends MapCalls {
        private final MapProxyImpl<BucketKey, BucketRecord> proxy;
        private final NodeEngine engine;
        private final OperationServiceImpl operations;
        private final OperationExecutor executor;
        private final SerializationService serialization;
        private final IPartitionService partitions;
        /** The member's own setting, as {@link IMap#submitToKey} would use it. */
        private final boolean failOnIndeterminateState;
        private final StoreStats stats;

        Internal(MapProxyImpl<BucketKey, BucketRecord> proxy, StoreStats stats) {
            this.stats = stats;
            this.proxy = proxy;
            this.engine = proxy.getNodeEngine();
            this.operations = (OperationServiceImpl) engine.getOperationService();
            this.executor = operations.getOperationExecutor();
            this.serialization = engine.getSerializationService();
            this.partitions = engine.getPartitionService();
            this.failOnIndeterminateState = engine.getProperties().getBoolean(ClusterProperty.FAIL_ON_INDETERMINATE_OPERATION_STATE);
        }

        @Override
        boolean internals() {
            return true;
        }

        /**
         * {@link IMap#submitToKey} wraps the invocation in a future that, as it is made, queues one
         * task per call on Hazelcast's default async executor just to complete itself: a thread
         * hand-off for every decision, whether or not anything waits on that future. The
         * invocation's own future is used instead and its answer read in place, on the thread that
         * completes it.
         */
        @Override
        <R> CompletionStage<R> call(BucketKey key, EntryProcessor<BucketKey, BucketRecord, R> processor) {
            return read(proxy.executeOnKeyInternal(key, processor));
        }

        /** The processor's result, read in place from the serialized answer on the thread that completes it. */
        @SuppressWarnings("unchecked")
        private <R> CompletionStage<R> read(CompletionStage<Data> answer) {
            return answer.thenApplyAsync(data -> (R) serialization.toObject(data), DIRECT);
        }

        /**
         * The calls for partitions this member owns are started from their partition threads, one
         * task per thread (see the class comment); calls for partitions another member owns are
         * started here. Each key is serialized once.
         */
        @Override
        void startTogether(List<? extends Call<?>> calls) {
            if (!engine.isRunning()) {
                // A member shutting down runs no more tasks: started here, the calls fail at once.
                calls.forEach(this::startHere);
                return;
            }
            List<List<Call<?>>> byThread = new ArrayList<>(executor.getPartitionThreadCount());
            for (int t = 0; t < executor.getPartitionThreadCount(); t++) {
                byThread.add(null);
            }
            for (Call<?> c : calls) {
                c.keyData = serialization.toData(c.key);
                c.partitionId = partitions.getPartitionId(c.keyData);
                if (!partitions.isPartitionOwner(c.partitionId)) {
                    stats.called(false);
                    startAsync(c);
                    continue;
                }
                stats.called(true);
                int t = executor.getPartitionThreadId(c.partitionId);
                if (byThread.get(t) == null) {
                    byThread.set(t, new ArrayList<>(calls.size()));
                }
                byThread.get(t).add(c);
            }
            for (List<Call<?>> group : byThread) {
                if (group != null) {
                    executor.execute(new StartOnThread(group));
                }
            }
        }

        /**
         * Starts a call, its key already serialized, as an asynchronous invocation. From the partition
         * thread serving its partition the operation joins that thread's own queue (an asynchronous
         * invocation is never run inline), to run after the task starting it; from any other thread
         * it is sent to the partition's owner. Ownership may have moved since the call was grouped;
         * the invocation goes wherever the partition is now.
         */
        private <R> void startAsync(Call<R> c) {
            CompletionStage<R> answer;
            try {
                var operation = proxy.getOperationProvider().createEntryOperation(BucketStore.MAP_NAME, c.keyData, c.processor);
                operation.setThreadId(ThreadUtil.getThreadId());
                CompletionStage<Data> invocation = operations.<Data>createInvocationBuilder(MapService.SERVICE_NAME, operation,
                                c.partitionId)
                        .setResultDeserialized(false)
                        .setFailOnIndeterminateOperationState(failOnIndeterminateState)
                        .setAsync()
                        .invoke();
                answer = read(invocation);
            } catch (RuntimeException e) {
                answer = CompletableFuture.failedFuture(e);
            }
            c.started(answer);
        }

        /** Runs on one partition thread: starts the calls of a batch for the partitions it serves. */
        private final class StartOnThread implements PartitionSpecificRunnable {
            private final List<Call<?>> calls;

            StartOnThread(List<Call<?>> calls) {
                this.calls = calls;
            }

            @Override
            public int getPartitionId() {
                return calls.get(0).partitionId;
            }

            @Override
            public void run() {
                for (Call<?> c : calls) {
                    startAsync(c);
                }
            }
        }
    }
}
