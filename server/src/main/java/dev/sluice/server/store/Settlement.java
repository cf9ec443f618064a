package dev.sluice.server.store;

import com.hazelcast.nio.ObjectDataInput;
import com.hazelcast.nio.ObjectDataOutput;
import com.hazelcast.nio.serialization.IdentifiedDataSerializable;

import java.io.IOException;

/**
 * What settling a request's cost did to one bucket: whether it applied, the units the request had
 * been charged (its estimate), the units the settle took (above zero) or gave back (below), and
 * the bucket's balance after it (below zero: a debt).
 */
public final class Settlement implements IdentifiedDataSerializable {

    /** What became of a settle on one bucket. */
    public enum Result {
        /** The difference between the estimate and the actual cost was charged or given back. */
        SETTLED,
        /** The request was settled before; nothing changed (a retried settle). */
        ALREADY_SETTLED,
        /** The bucket took nothing for the request (it was denied, or given back): there is nothing to settle. */
        NOT_CHARGED,
        /** The bucket does not remember the request: its memory ran out, or the request never reached it. */
        FORGOTTEN
    }

    private Result result;
    private long estimate;
    private long adjusted;
    private long balance;

    Settlement() {
    }

    Settlement(Result result, long estimate, long adjusted, long balance) {
        this.result = result;
        this.estimate = estimate;
        this.adjusted = adjusted;
        this.balance = balance;
    }

    public Result result() {
        return result;
    }

    /** Units the request was charged when it was allowed; 0 when not {@link Result#SETTLED} or {@link Result#ALREADY_SETTLED}. */
    public long estimate() {
        return estimate;
    }

    /** Units this settle took from the bucket (above zero) or gave back (below zero). */
    public long adjusted() {
        return adjusted;
    }

    /** Units the bucket could spend now; below zero, the debt it owes. */
    public long balance() {
        return balance;
    }

    @Override
    public String toString() {
        return result + " estimate=" + estimate + " adjusted=" + adjusted + " balance=" + balance;
    }

    @Override
    public void writeData(ObjectDataOutput out) throws IOException {
        out.writeByte(result.ordinal());
        out.writeLong(estimate);
        out.writeLong(adjusted);
        out.writeLong(balance);
    }

    @Override
    public void readData(ObjectDataInput in) throws IOException {
        result = Result.values()[in.readByte()];
        estimate = in.readLong();
        adjusted = in.readLong();
        balance = in.readLong();
    }

    @Override
    public int getFactoryId() {
        return StoreSerialization.FACTORY_ID;
    }

    @Override
    public int getClassId() {
        return StoreSerialization.SETTLEMENT;
    }
}
