package dev.lstm4j.kafka;

import dev.lstm4j.StreamState;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.Serializer;

import java.nio.ByteBuffer;

/** Serdes for the processor's values: events and outputs as float32 arrays, and the per-key {@link StreamState}. */
public final class LstmSerdes {
    private LstmSerdes() {
    }

    /** A float32 array as its big-endian floats (4 bytes each, no header). */
    public static Serde<float[]> floatArray() {
        Serializer<float[]> ser = (topic, v) -> {
            if (v == null) {
                return null;
            }
            ByteBuffer b = ByteBuffer.allocate(4 * v.length);
            for (float f : v) {
                b.putFloat(f);
            }
            return b.array();
        };
        Deserializer<float[]> de = (topic, bytes) -> {
            if (bytes == null) {
                return null;
            }
            if (bytes.length % 4 != 0) {
                throw new SerializationException("topic " + topic + ": a float32 array needs a multiple of 4 bytes, got " + bytes.length);
            }
            ByteBuffer b = ByteBuffer.wrap(bytes);
            float[] v = new float[bytes.length / 4];
            for (int i = 0; i < v.length; i++) {
                v[i] = b.getFloat();
            }
            return v;
        };
        return Serdes.serdeFrom(ser, de);
    }

    /** A {@link StreamState} in its stable byte form ({@link StreamState#toBytes()}), checked when read. */
    public static Serde<StreamState> streamState() {
        Serializer<StreamState> ser = (topic, v) -> v == null ? null : v.toBytes();
        Deserializer<StreamState> de = (topic, bytes) -> {
            if (bytes == null) {
                return null;
            }
            try {
                return StreamState.fromBytes(bytes);
            } catch (RuntimeException e) {
                throw new SerializationException("topic " + topic + ": " + e.getMessage(), e);
            }
        };
        return Serdes.serdeFrom(ser, de);
    }
}
