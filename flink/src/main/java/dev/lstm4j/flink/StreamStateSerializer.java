package dev.lstm4j.flink;

import dev.lstm4j.StreamState;
import org.apache.flink.api.common.typeutils.SimpleTypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.base.TypeSerializerSingleton;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;

import java.io.IOException;

/**
 * Flink's serializer for {@link StreamState}: a length, then the state's stable byte form
 * ({@link StreamState#toBytes()}, itself versioned and CRC-checked). It does not depend on the state backend, so a
 * savepoint moves between the hashmap and RocksDB backends, and the snapshot keeps it across Flink upgrades.
 */
public final class StreamStateSerializer extends TypeSerializerSingleton<StreamState> {
    private static final long serialVersionUID = 1L;
    public static final StreamStateSerializer INSTANCE = new StreamStateSerializer();

    @Override
    public boolean isImmutableType() {
        return true;  // StreamState is immutable
    }

    @Override
    public StreamState createInstance() {
        return null;  // no state yet: the stream starts from zeros
    }

    @Override
    public StreamState copy(StreamState from) {
        return from;
    }

    @Override
    public StreamState copy(StreamState from, StreamState reuse) {
        return from;
    }

    @Override
    public int getLength() {
        return -1;
    }

    @Override
    public void serialize(StreamState record, DataOutputView target) throws IOException {
        byte[] b = record.toBytes();
        target.writeInt(b.length);
        target.write(b);
    }

    @Override
    public StreamState deserialize(DataInputView source) throws IOException {
        int n = source.readInt();
        if (n < 0 || n > (1 << 28)) {
            throw new IOException("lstm4j stream state: implausible length " + n + "; the state is damaged or was written by another serializer");
        }
        byte[] b = new byte[n];
        source.readFully(b);
        return StreamState.fromBytes(b);
    }

    @Override
    public StreamState deserialize(StreamState reuse, DataInputView source) throws IOException {
        return deserialize(source);
    }

    @Override
    public void copy(DataInputView source, DataOutputView target) throws IOException {
        int n = source.readInt();
        target.writeInt(n);
        target.write(source, n);
    }

    @Override
    public TypeSerializerSnapshot<StreamState> snapshotConfiguration() {
        return new Snapshot();
    }

    /** The serializer's snapshot: this class has no configuration, so the snapshot only names it. */
    public static final class Snapshot extends SimpleTypeSerializerSnapshot<StreamState> {
        public Snapshot() {
            super(() -> INSTANCE);
        }
    }
}
