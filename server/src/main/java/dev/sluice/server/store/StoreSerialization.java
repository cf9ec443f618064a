package dev.sluice.server.store;

import com.hazelcast.nio.serialization.DataSerializableFactory;
import com.hazelcast.nio.serialization.IdentifiedDataSerializable;

/** Identifiers of everything the store sends between members or keeps in the map. */
public final class StoreSerialization implements DataSerializableFactory {

    /** Hazelcast factory id for Sluice's classes; must be the same on every member. */
    public static final int FACTORY_ID = 0x51CE;

    static final int BUCKET_RECORD = 1;
    static final int ACQUIRE_PROCESSOR = 2;
    static final int BUCKET_ANSWER = 3;
    static final int STATE_BACKUP = 4;
    static final int REFUND_PROCESSOR = 5;
    static final int MERGE_POLICY = 6;
    static final int COALESCED_ACQUIRE_PROCESSOR = 7;
    static final int COALESCED_BACKUP = 8;
    static final int BUCKET_ANSWERS = 9;
    static final int RESTED_PREDICATE = 10;
    static final int GCRA_RECORD = 11;
    static final int WINDOW_RECORD = 12;
    static final int BUCKET_VIEW = 13;
    static final int INSPECT_PROCESSOR = 14;
    static final int RESET_PROCESSOR = 15;
    static final int RENEW_PROCESSOR = 16;
    static final int SETTLE_PROCESSOR = 17;
    static final int SETTLEMENT = 18;

    @Override
    public IdentifiedDataSerializable create(int typeId) {
        return switch (typeId) {
            case BUCKET_RECORD -> new BucketRecord.General();
            case GCRA_RECORD -> new BucketRecord.Gcra();
            case WINDOW_RECORD -> new BucketRecord.Window();
            case ACQUIRE_PROCESSOR -> new AcquireProcessor();
            case BUCKET_ANSWER -> new BucketAnswer();
            case STATE_BACKUP -> new StateBackup();
            case REFUND_PROCESSOR -> new RefundProcessor();
            case MERGE_POLICY -> new MostConsumedMergePolicy();
            case COALESCED_ACQUIRE_PROCESSOR -> new CoalescedAcquireProcessor();
            case COALESCED_BACKUP -> new CoalescedBackup();
            case BUCKET_ANSWERS -> new BucketAnswers();
            case RESTED_PREDICATE -> new RestedSweeper.Rested();
            case BUCKET_VIEW -> new BucketView();
            case INSPECT_PROCESSOR -> new InspectProcessor();
            case RESET_PROCESSOR -> new ResetProcessor();
            case RENEW_PROCESSOR -> new RenewProcessor();
            case SETTLE_PROCESSOR -> new SettleProcessor();
            case SETTLEMENT -> new Settlement();
            default -> null;
        };
    }
}
