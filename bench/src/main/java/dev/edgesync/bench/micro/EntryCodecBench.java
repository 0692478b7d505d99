package dev.edgesync.bench.micro;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.edgesync.conflict.Hlc;
import dev.edgesync.conflict.Version;
import dev.edgesync.engine.replication.wire.EntryChecksum;
import dev.edgesync.engine.replication.wire.EntryCodec;
import dev.edgesync.engine.storage.StoredEntry;
import dev.edgesync.proto.Entry;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * An entry's trip through the wire format: {@link EntryCodec#encode} (protobuf build plus
 * CRC32C), serialization, parsing, and {@link EntryCodec#decode} (checks plus CRC32C). Lives in
 * the engine's package (in the bench module) because the codec is package-private; it changes
 * nothing in the engine.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class EntryCodecBench {
  @Param({"100", "1024"})
  public int valueBytes;

  private StoredEntry stored;
  private Entry wire;
  private byte[] bytes;

  @Setup
  public void setUp() {
    byte[] value = new byte[valueBytes];
    Arrays.fill(value, (byte) 'x');
    stored =
        new StoredEntry(
            "k000000000012345".getBytes(StandardCharsets.US_ASCII), value, false, new Version(Hlc.of(1_790_000_000_000L, 3), "site-a"), 42);
    wire = EntryCodec.encode(stored);
    bytes = wire.toByteArray();
  }

  @Benchmark
  public int checksum() {
    return EntryChecksum.compute(stored);
  }

  @Benchmark
  public Entry encode() {
    return EntryCodec.encode(stored);
  }

  @Benchmark
  public byte[] encodeAndSerialize() {
    return EntryCodec.encode(stored).toByteArray();
  }

  @Benchmark
  public StoredEntry decode() throws EntryCodec.CorruptEntryException {
    return EntryCodec.decode(wire);
  }

  @Benchmark
  public StoredEntry parseAndDecode() throws InvalidProtocolBufferException, EntryCodec.CorruptEntryException {
    return EntryCodec.decode(Entry.parseFrom(bytes));
  }
}
