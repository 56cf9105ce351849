// Peer for bench/oltp.sh: Debezium's real MySQL connector, in its embedded engine, reads the
// binlog from the start of <binlog file> (a stored offset written before the engine starts;
// snapshot.mode=recovery: the schema history is rebuilt from the current schema, then the binlog is read from that offset) and hands each record to a handler as
// JsonConverter text (Debezium's JSON format, schemas on or off); the handler counts the
// change records of one table and discards them, so no broker is involved. It stops once it
// has seen the expected number of row changes.
//
//   java -cp "<debezium libs>/*:<classes>" DebeziumDrain <port> <database> <rows> <schemas true|false> <binlog file>
//
// Prints one JSON line: rows, seconds (engine start to the last row), first_event_ms (engine
// start to the first row).

import io.debezium.engine.ChangeEvent;
import io.debezium.engine.DebeziumEngine;
import io.debezium.engine.format.Json;
import java.io.ObjectOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

public final class DebeziumDrain {
  public static void main(String[] args) throws Exception {
    if (args.length != 5) {
      System.err.println("usage: DebeziumDrain <port> <database> <rows> <schemas true|false> <binlog file>");
      System.exit(2);
    }
    // Kafka Connect's FileOffsetBackingStore format: a serialised map of key to value bytes,
    // the key ["<engine name>", <source partition>], the value the source offset.
    Path offsets = Files.createTempFile("debezium-drain", ".offsets");
    Map<byte[], byte[]> stored = new HashMap<>();
    stored.put(
        "[\"bench\",{\"server\":\"bench\"}]".getBytes(StandardCharsets.UTF_8),
        ("{\"file\":\"" + args[4] + "\",\"pos\":4}").getBytes(StandardCharsets.UTF_8));
    try (ObjectOutputStream os = new ObjectOutputStream(Files.newOutputStream(offsets))) {
      os.writeObject(stored);
    }
    String db = args[1];
    long want = Long.parseLong(args[2]);
    Properties p = new Properties();
    p.setProperty("name", "bench");
    p.setProperty("connector.class", "io.debezium.connector.mysql.MySqlConnector");
    p.setProperty("offset.storage", "org.apache.kafka.connect.storage.FileOffsetBackingStore");
    p.setProperty("offset.storage.file.filename", offsets.toString());
    p.setProperty("offset.flush.interval.ms", "60000");
    p.setProperty("schema.history.internal", "io.debezium.relational.history.MemorySchemaHistory");
    p.setProperty("database.hostname", "127.0.0.1");
    p.setProperty("database.port", args[0]);
    p.setProperty("database.user", "bp");
    p.setProperty("database.password", "bp-pass");
    p.setProperty("database.server.id", "7788");
    p.setProperty("topic.prefix", "bench");
    p.setProperty("database.include.list", db);
    p.setProperty("snapshot.mode", "recovery");
    p.setProperty("include.schema.changes", "false");
    p.setProperty("converter.schemas.enable", args[3]);
    p.setProperty("key.converter.schemas.enable", args[3]);
    p.setProperty("value.converter.schemas.enable", args[3]);
    String topic = "bench." + db + ".oltp";
    AtomicLong rows = new AtomicLong();
    AtomicLong first = new AtomicLong();
    CountDownLatch done = new CountDownLatch(1);
    long started = System.nanoTime();
    try (DebeziumEngine<ChangeEvent<String, String>> engine =
        DebeziumEngine.create(Json.class)
            .using(p)
            .notifying(
                (records, committer) -> {
                  for (ChangeEvent<String, String> r : records) {
                    if (topic.equals(r.destination()) && r.value() != null) {
                      if (rows.incrementAndGet() == 1) {
                        first.set(System.nanoTime());
                      }
                    }
                    committer.markProcessed(r);
                  }
                  committer.markBatchFinished();
                  if (rows.get() >= want) {
                    done.countDown();
                  }
                })
            .using(
                (success, message, error) -> {
                  if (!success) {
                    System.err.println("engine stopped: " + message);
                    if (error != null) {
                      error.printStackTrace();
                    }
                    System.exit(1);
                  }
                })
            .build()) {
      ExecutorService pool = Executors.newSingleThreadExecutor();
      pool.execute(engine);
      if (!done.await(30, TimeUnit.MINUTES)) {
        System.err.println("timed out after " + rows.get() + " rows");
        System.exit(1);
      }
      long ended = System.nanoTime();
      System.out.printf(
          "{\"rows\": %d, \"seconds\": %.3f, \"first_event_ms\": %d}%n",
          rows.get(), (ended - started) / 1e9, (first.get() - started) / 1_000_000);
      System.out.flush();
      Runtime.getRuntime().halt(0);
    }
  }
}
