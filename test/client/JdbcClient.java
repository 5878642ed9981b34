/*
 * JdbcClient.java: subscriber_fdw through pgjdbc, as Metabase, Tableau and
 * DBeaver reach it.  A single-file program, run without a compiler step:
 *
 *   java -cp /usr/share/java/postgresql.jar test/client/JdbcClient.java JDBC_URL SIM_URL COLUMNS TAG
 *
 * JDBC_URL names a database that test/client/setup.sh prepared (schemas
 * "api" and "paused"), SIM_URL the simulator, COLUMNS the file
 * test/client/columns.txt, TAG the id= of the "paused" server's base URL.
 * Prints TAP; exits 1 if a test fails.
 *
 * Expected values come from the simulator's formulas: customer
 * cccccccc-0000-4000-8000-NNNNNNNNNNNN has N subscribers; subscriber i has
 * subscriberId "%08x-" + S[0:4] + "-4" + S[4:7] + "-a" + S[7:10] + "-" +
 * S[10:12] + "0000000000" (S the 12 digits), status
 * {ACTIVE, SUSPEND, INACTIVE, TERMINATED}[i % 4] and imeisv
 * "35430611%07d01"; msisdn ...d has d % 4 sessions.
 */
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Array;
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Savepoint;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

public class JdbcClient {
    static final String[] STATUSES = {"ACTIVE", "SUSPEND", "INACTIVE", "TERMINATED"};
    static final int RUNS = 12;         /* 4 before prepareThreshold (5), then 5 custom plans, then generic ones */
    static final int CURSOR_ROWS = 50000;
    static final int PAUSE_MS = 3000;   /* longer than the paused server's request_timeout, 2 s */

    static int tests = 0;
    static int failures = 0;

    static void ok(boolean passed, String name, String diagnostic) {
        tests++;
        System.out.println((passed ? "ok " : "not ok ") + tests + " - " + name);
        if (!passed) {
            failures++;
            if (diagnostic != null)
                for (String line : diagnostic.split("\n"))
                    System.out.println("#   " + line);
        }
    }

    static String digits(long n) { return String.format("%012d", n); }

    static UUID customer(long n) { return UUID.fromString("cccccccc-0000-4000-8000-" + digits(n)); }

    static String subscriberId(long n, int i) {
        String s = digits(n);
        return String.format("%08x-%s-4%s-a%s-%s0000000000", i, s.substring(0, 4), s.substring(4, 7),
                             s.substring(7, 10), s.substring(10, 12));
    }

    /* Runs a statement that must fail; returns its SQLSTATE, or "none". */
    static String failure(PreparedStatement ps) {
        try (ResultSet rs = ps.executeQuery()) {
            while (rs.next()) { }
            return "none";
        } catch (SQLException e) {
            return e.getSQLState();
        }
    }

    /* count(*) and max(text column) of a one-row query with one uuid parameter. */
    static String countAndMax(PreparedStatement ps, Object key) throws SQLException {
        ps.setObject(1, key);
        try (ResultSet rs = ps.executeQuery()) {
            rs.next();
            return rs.getLong(1) + " " + rs.getString(2);
        }
    }

    /* Whether pg_prepared_statements shows the statement ran its generic plan. */
    static void checkGeneric(Connection conn, String sql, String name) throws SQLException {
        try (PreparedStatement ps = conn.prepareStatement(
                "SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE statement = ?")) {
            ps.setString(1, sql.replace("?", "$1"));
            try (ResultSet rs = ps.executeQuery()) {
                boolean found = rs.next();
                long generic = found ? rs.getLong(1) : -1;
                long custom = found ? rs.getLong(2) : -1;
                ok(found && generic >= 1 && generic + custom >= 5,
                   name + " was prepared on the server and ran its generic plan",
                   "generic plans " + generic + ", custom plans " + custom);
            }
        }
    }

    static void preparedStatements(Connection conn) throws SQLException {
        /*
         * Customers new to the session on every run: for a customer whose
         * size the session has seen, the custom plan is estimated better
         * than the generic one and the plan cache rightly keeps it.
         */
        String sql = "SELECT count(*), max(iccid) FROM api.customer_subscribers WHERE customer_id = ?";
        try (PreparedStatement ps = conn.prepareStatement(sql)) {
            List<String> wrong = new ArrayList<>();
            for (int run = 0; run < RUNS; run++) {
                long n = 130 + run;
                String want = n + " 8935711" + digits(n).substring(6) + String.format("%07d", n - 1);
                String got = countAndMax(ps, customer(n));
                if (!got.equals(want))
                    wrong.add("run " + (run + 1) + ": got " + got + ", want " + want);
            }
            ok(wrong.isEmpty(), "customer_subscribers: " + RUNS + " executions of one PreparedStatement",
               String.join("\n", wrong));
            ok(ps.unwrap(org.postgresql.PGStatement.class).isUseServerPrepare(),
               "pgjdbc switched customer_subscribers' statement to a server-side prepare", null);
        }
        checkGeneric(conn, sql, "customer_subscribers' statement");

        sql = "SELECT count(*), max(imeisv) FROM api.subscriber_details WHERE customer_id = ?";
        try (PreparedStatement ps = conn.prepareStatement(sql)) {
            List<String> wrong = new ArrayList<>();
            for (int run = 0; run < RUNS; run++) {
                long n = 150 + run;
                String want = n + " 35430611" + String.format("%07d", n - 1) + "01";
                String got = countAndMax(ps, customer(n));
                if (!got.equals(want))
                    wrong.add("run " + (run + 1) + ": got " + got + ", want " + want);
            }
            ok(wrong.isEmpty(), "subscriber_details: " + RUNS + " executions of one PreparedStatement",
               String.join("\n", wrong));
        }
        checkGeneric(conn, sql, "subscriber_details' statement");

        sql = "SELECT count(*), max(session_id) FROM api.subscriber_sessions WHERE msisdn = ?";
        try (PreparedStatement ps = conn.prepareStatement(sql)) {
            List<String> wrong = new ArrayList<>();
            for (int run = 0; run < RUNS; run++) {
                String msisdn = String.format("99123456%03d", run);
                long want = (run % 10) % 4;
                ps.setString(1, msisdn);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    String wantMax = want == 0 ? null : "sess-" + msisdn + "-" + (want - 1);
                    String gotMax = rs.getString(2);
                    if (rs.getLong(1) != want || (wantMax == null ? gotMax != null : !wantMax.equals(gotMax)))
                        wrong.add(msisdn + ": got " + rs.getLong(1) + " " + gotMax + ", want " + want + " " + wantMax);
                }
            }
            ok(wrong.isEmpty(), "subscriber_sessions: " + RUNS + " executions of one PreparedStatement",
               String.join("\n", wrong));
        }
        checkGeneric(conn, sql, "subscriber_sessions' statement");
    }

    /*
     * = ANY(?) with arrays.  The planner keeps custom plans for it (the
     * generic plan's array could hold any number of keys, so it costs more),
     * so the last runs force the generic plan, as plan_cache_mode does for
     * some BI set-ups.
     */
    static void arrays(Connection conn) throws SQLException {
        String sql = "SELECT customer_id, count(*) FROM api.customer_subscribers"
                     + " WHERE customer_id = ANY(?) GROUP BY 1 ORDER BY 1";
        try (PreparedStatement ps = conn.prepareStatement(sql);
             Statement st = conn.createStatement()) {
            List<String> wrong = new ArrayList<>();
            for (int run = 0; run < RUNS + 3; run++) {
                if (run == RUNS)
                    st.execute("SET plan_cache_mode = force_generic_plan");
                long[] sizes = {1 + run, 11 + run, 101 + run};
                UUID[] keys = {customer(sizes[2]), customer(sizes[0]), customer(sizes[1]), customer(sizes[0])};
                Array array = conn.createArrayOf("uuid", keys);
                ps.setArray(1, array);
                StringBuilder got = new StringBuilder();
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next())
                        got.append(rs.getObject(1)).append('=').append(rs.getLong(2)).append(' ');
                }
                String want = customer(sizes[0]) + "=" + sizes[0] + " " + customer(sizes[1]) + "=" + sizes[1]
                              + " " + customer(sizes[2]) + "=" + sizes[2] + " ";
                if (!got.toString().equals(want))
                    wrong.add("run " + (run + 1) + ": got " + got + "\nwant " + want);
                array.free();
            }
            ok(wrong.isEmpty(), "customer_id = ANY(?) with a java.sql.Array of uuid, " + (RUNS + 3)
               + " executions, the last 3 on the generic plan", String.join("\n", wrong));
            checkGeneric(conn, sql, "the ANY(?) statement");
            st.execute("RESET plan_cache_mode");
        }

        sql = "SELECT count(*) FROM api.subscriber_sessions WHERE msisdn = ANY(?)";
        try (PreparedStatement ps = conn.prepareStatement(sql)) {
            ps.setArray(1, conn.createArrayOf("text", new String[] {"99000000001", "99000000003", "40400000002"}));
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                ok(rs.getLong(1) == 4, "msisdn = ANY(?) with a text array: 1 + 3 + 0 sessions",
                   "got " + rs.getLong(1));
            }
        }
    }

    /*
     * A result set read in fetches of fetchSize rows (a portal kept open in
     * a transaction), with pauses longer than request_timeout, as a result
     * grid left open does.  Checks every row in order, then the simulator's
     * log: every record sent once, no chunk or page asked twice.
     */
    static void pausedCursor(Connection conn, String table, int rows, int[] pauseAt,
                             String simUrl, String tag) throws Exception {
        long n = rows;
        long since = lastSeq(simUrl, tag);
        String name = table + ": " + rows + " rows read with setFetchSize(1000), "
                      + pauseAt.length + " pause(s) of " + PAUSE_MS / 1000 + " s";
        conn.setAutoCommit(false);
        int count = 0;
        String firstWrong = null;
        String error = null;
        try (Statement st = conn.createStatement()) {
            st.setFetchSize(1000);
            try (ResultSet rs = st.executeQuery("SELECT subscriber_id, status FROM paused." + table
                                                + " WHERE customer_id = '" + customer(n) + "'")) {
                int next = 0;
                while (rs.next()) {
                    if (firstWrong == null && (!subscriberId(n, count).equals(rs.getString(1))
                                               || !STATUSES[count % 4].equals(rs.getString(2))))
                        firstWrong = "row " + count + ": " + rs.getString(1) + " " + rs.getString(2);
                    count++;
                    if (next < pauseAt.length && count == pauseAt[next]) {
                        next++;
                        Thread.sleep(PAUSE_MS);
                    }
                }
            }
            conn.commit();
        } catch (SQLException e) {
            error = e.getSQLState() + ": " + e.getMessage();
            conn.rollback();
        }
        conn.setAutoCommit(true);
        ok(error == null && count == rows && firstWrong == null, name,
           error != null ? "after " + count + " rows: " + error
                         : "rows " + count + (firstWrong != null ? ", first wrong " + firstWrong : ""));

        /* the log: records sent add up to the rows, no pitId or page sent twice */
        String log = get(simUrl + "/_sim/log?since=" + since + "&path_contains=id=" + tag);
        Matcher m = Pattern.compile("\"path\":\"((?:[^\"\\\\]|\\\\.)*)\",\"body\":\"((?:[^\"\\\\]|\\\\.)*)\""
                                    + ".*?\"status\":(\\d+).*?\"records\":(-?\\d+)\\}").matcher(log);
        Pattern pit = Pattern.compile("pitId\\\\\":\\\\\"([^\\\\]*)\\\\\"");
        Pattern page = Pattern.compile("[?&]page=(\\d+)");
        Set<String> asked = new HashSet<>();
        List<String> twice = new ArrayList<>();
        long records = 0;
        int requests = 0;
        while (m.find()) {
            if (!m.group(1).contains(digits(n)))
                continue;
            requests++;
            Matcher p = table.equals("subscriber_details") ? pit.matcher(m.group(2)) : page.matcher(m.group(1));
            String chunk = p.find() ? p.group(1) : "?";
            if (!asked.add(chunk))
                twice.add(chunk);
            if (m.group(3).equals("200"))
                records += Long.parseLong(m.group(4));
        }
        ok(requests > 1 && records == rows && twice.isEmpty(),
           table + ": the simulator sent each record once and was asked for no chunk twice",
           requests + " requests, " + records + " records sent, asked twice: " + twice);
    }

    /* The number of the simulator's latest log entry for this test's server. */
    static long lastSeq(String simUrl, String tag) throws Exception {
        Matcher m = Pattern.compile("\"seq\":(\\d+)").matcher(get(simUrl + "/_sim/log?path_contains=id=" + tag));
        long seq = 0;
        while (m.find())
            seq = Long.parseLong(m.group(1));
        return seq;
    }

    static String get(String url) throws Exception {
        HttpResponse<String> r = HttpClient.newHttpClient().send(
            HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.ofString());
        return r.body();
    }

    static void metadata(Connection conn, List<String[]> columns) throws SQLException {
        DatabaseMetaData md = conn.getMetaData();
        List<String> tables = new ArrayList<>();
        try (ResultSet rs = md.getTables(null, "api", "%", new String[] {"FOREIGN TABLE"})) {
            while (rs.next())
                tables.add(rs.getString("TABLE_NAME") + ":" + rs.getString("TABLE_TYPE"));
        }
        String want = "[customer_subscribers:FOREIGN TABLE, subscriber_details:FOREIGN TABLE,"
                      + " subscriber_sessions:FOREIGN TABLE]";
        ok(tables.toString().equals(want), "getTables lists the three foreign tables of schema api",
           "got " + tables);

        for (String table : new String[] {"customer_subscribers", "subscriber_details", "subscriber_sessions"}) {
            List<String> got = new ArrayList<>();
            List<String> expected = new ArrayList<>();
            for (String[] c : columns)
                if (c[0].equals(table))
                    expected.add(c[1] + " " + c[2]);
            try (ResultSet rs = md.getColumns(null, "api", table, "%")) {
                while (rs.next())
                    got.add(rs.getString("COLUMN_NAME") + " " + rs.getString("TYPE_NAME"));
            }
            ok(got.equals(expected), "getColumns of " + table + ": " + expected.size() + " columns, names and types",
               "got  " + got + "\nwant " + expected);
        }
    }

    static void errorRecovery(Connection conn) throws SQLException {
        String sql = "SELECT count(*), max(iccid) FROM api.customer_subscribers WHERE customer_id = ?";
        UUID unknown = UUID.fromString("dddddddd-0000-4000-8000-000000000001");
        try (PreparedStatement ps = conn.prepareStatement(sql)) {
            for (int run = 0; run < RUNS; run++)
                countAndMax(ps, customer(5));   /* server-side prepared by now */
            ps.setObject(1, unknown);
            String state = failure(ps);
            ok(state.equals("42704"), "an unknown customer fails with SQLSTATE 42704", "got " + state);
            String got = countAndMax(ps, customer(4));
            ok(got.startsWith("4 "), "the same PreparedStatement works after the failure", "got " + got);
        }

        /* in a transaction: the failure is rolled back to a savepoint, the work before it kept */
        conn.setAutoCommit(false);
        try (Statement st = conn.createStatement();
             PreparedStatement ps = conn.prepareStatement(sql)) {
            st.execute("CREATE TEMP TABLE kept (n int)");
            st.execute("INSERT INTO kept VALUES (1)");
            Savepoint sp = conn.setSavepoint();
            ps.setObject(1, unknown);
            String state = failure(ps);
            conn.rollback(sp);
            String got = countAndMax(ps, customer(6));
            long kept;
            try (ResultSet rs = st.executeQuery("SELECT count(*) FROM kept")) {
                rs.next();
                kept = rs.getLong(1);
            }
            conn.commit();
            ok(state.equals("42704") && got.startsWith("6 ") && kept == 1,
               "in a transaction, ROLLBACK TO SAVEPOINT after the failure: the work before it is kept,"
               + " the next query works",
               "failure " + state + ", next query " + got + ", rows kept " + kept);
        } finally {
            conn.setAutoCommit(true);
        }
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 4) {
            System.err.println("usage: JdbcClient JDBC_URL SIM_URL COLUMNS TAG");
            System.exit(2);
        }
        List<String[]> columns = new ArrayList<>();
        for (String line : Files.readAllLines(Path.of(args[2])))
            if (!line.startsWith("#") && !line.isBlank())
                columns.add(line.trim().split(" "));

        System.out.println("1..21");
        try (Connection conn = DriverManager.getConnection(args[0])) {
            preparedStatements(conn);
            arrays(conn);
            pausedCursor(conn, "subscriber_details", CURSOR_ROWS, new int[] {5500, 27500},
                         args[1], args[3]);
            pausedCursor(conn, "customer_subscribers", 20000, new int[] {5500}, args[1], args[3]);
            metadata(conn, columns);
            errorRecovery(conn);
        }
        if (failures > 0)
            System.out.println("# " + failures + " of " + tests + " tests failed");
        System.exit(failures > 0 ? 1 : 0);
    }
}
