// Runs Debezium's real MySQL connector (the embedded engine of the Debezium jars that
// scripts/dev-services.sh caches) and writes every record it produces as Kafka Connect's
// JsonConverter would put it on a topic: one JSON line per record, {"topic", "key", "value",
// "headers"}, key and value being the converter's exact output as text (null for a tombstone's
// value), headers a list of [name, value] with each value as Kafka Connect's default header
// converter (SimpleHeaderConverter) writes it, as text (null for a null header).
//
// The differential test (tests/debezium_parity.rs) runs this beside binlog-poller on the same
// database and compares the records byte for byte.
//
//   java -cp "<libs>/*:<classes>" DebeziumCapture <out-dir> <name>=<connector.properties> ...
//
// Each properties file configures one engine (connector settings as in a registration JSON);
// keys starting with "converter." configure the JsonConverter of that engine's output (e.g.
// converter.schemas.enable=false, converter.replace.null.with.default=false). The engines run
// until the file <out-dir>/stop appears; then they are closed and the program exits 0. An engine
// that fails writes <out-dir>/<name>.error and the program exits 1.

import io.debezium.engine.DebeziumEngine;
import io.debezium.engine.RecordChangeEvent;
import io.debezium.engine.format.ChangeEventFormat;
import io.debezium.embedded.Connect;
import java.io.BufferedWriter;
import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.connect.header.Header;
import org.apache.kafka.connect.json.JsonConverter;
import org.apache.kafka.connect.storage.SimpleHeaderConverter;
import org.apache.kafka.connect.source.SourceRecord;

public final class DebeziumCapture {
  public static void main(String[] args) throws Exception {
    if (args.length < 2) {
      System.err.println("usage: DebeziumCapture <out-dir> <name>=<connector.properties> ...");
      System.exit(2);
    }
    Path out = Path.of(args[0]);
    Files.createDirectories(out);
    AtomicBoolean failed = new AtomicBoolean(false);
    List<DebeziumEngine<RecordChangeEvent<SourceRecord>>> engines = new ArrayList<>();
    List<BufferedWriter> writers = new ArrayList<>();
    ExecutorService pool = Executors.newCachedThreadPool();
    for (int i = 1; i < args.length; i++) {
      String[] spec = args[i].split("=", 2);
      String name = spec[0];
      Properties all = new Properties();
      try (InputStream in = new FileInputStream(spec[1])) {
        all.load(in);
      }
      Properties props = new Properties();
      Map<String, Object> conv = new HashMap<>();
      for (String k : all.stringPropertyNames()) {
        if (k.startsWith("converter.")) {
          conv.put(k.substring("converter.".length()), all.getProperty(k));
        } else {
          props.setProperty(k, all.getProperty(k));
        }
      }
      JsonConverter keys = new JsonConverter();
      keys.configure(conv, true);
      JsonConverter values = new JsonConverter();
      values.configure(conv, false);
      SimpleHeaderConverter headers = new SimpleHeaderConverter();
      headers.configure(new HashMap<>());
      BufferedWriter w = Files.newBufferedWriter(out.resolve(name + ".jsonl"), StandardCharsets.UTF_8);
      writers.add(w);
      DebeziumEngine<RecordChangeEvent<SourceRecord>> engine =
          DebeziumEngine.create(ChangeEventFormat.of(Connect.class))
              .using(props)
              .notifying(
                  event -> {
                    SourceRecord r = event.record();
                    byte[] k = keys.fromConnectData(r.topic(), r.keySchema(), r.key());
                    byte[] v = values.fromConnectData(r.topic(), r.valueSchema(), r.value());
                    StringBuilder line = new StringBuilder();
                    line.append("{\"topic\":").append(quote(r.topic()));
                    line.append(",\"key\":").append(k == null ? "null" : quote(new String(k, StandardCharsets.UTF_8)));
                    line.append(",\"value\":").append(v == null ? "null" : quote(new String(v, StandardCharsets.UTF_8)));
                    line.append(",\"headers\":[");
                    boolean first = true;
                    for (Header h : r.headers()) {
                      byte[] hv = headers.fromConnectHeader(r.topic(), h.key(), h.schema(), h.value());
                      line.append(first ? "" : ",").append('[').append(quote(h.key())).append(',');
                      line.append(hv == null ? "null" : quote(new String(hv, StandardCharsets.UTF_8))).append(']');
                      first = false;
                    }
                    line.append("]}\n");
                    synchronized (w) {
                      try {
                        w.write(line.toString());
                        w.flush();
                      } catch (IOException e) {
                        throw new RuntimeException(e);
                      }
                    }
                  })
              .using(
                  (success, message, error) -> {
                    if (!success) {
                      failed.set(true);
                      try {
                        Files.writeString(out.resolve(name + ".error"), message + (error == null ? "" : ": " + error));
                      } catch (IOException e) {
                        // the exit code still reports it
                      }
                    }
                  })
              .build();
      engines.add(engine);
      pool.execute(engine);
    }
    Path stop = out.resolve("stop");
    while (!Files.exists(stop) && !failed.get()) {
      Thread.sleep(100);
    }
    for (DebeziumEngine<?> e : engines) {
      try {
        e.close();
      } catch (RuntimeException err) {
        // an engine that failed to start cannot be closed; its .error file says why
      }
    }
    pool.shutdown();
    pool.awaitTermination(30, TimeUnit.SECONDS);
    for (BufferedWriter w : writers) {
      w.close();
    }
    System.exit(failed.get() ? 1 : 0);
  }

  private static String quote(String s) {
    StringBuilder b = new StringBuilder(s.length() + 2).append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> b.append("\\\"");
        case '\\' -> b.append("\\\\");
        case '\n' -> b.append("\\n");
        case '\r' -> b.append("\\r");
        case '\t' -> b.append("\\t");
        default -> {
          if (c < 0x20) {
            b.append(String.format("\\u%04x", (int) c));
          } else {
            b.append(c);
          }
        }
      }
    }
    return b.append('"').toString();
  }
}
