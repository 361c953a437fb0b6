package dev.bhatti.server.store;

import org.sqlite.SQLiteErrorCode;
import org.sqlite.SQLiteException;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One SQLite connection guarded by a lock, and the few ways the store uses it: a statement, a query
 * for one row or many, a transaction. SQLite's errors become {@link StoreException}s.
 */
final class Jdbc {
    private final Connection db;
    private final ReentrantLock lock = new ReentrantLock();

    Jdbc(Connection db) { this.db = db; }

    Connection connection() { return db; }

    /** Whether a statement failed on a UNIQUE constraint (by SQLite's extended result code, not its message). */
    static boolean isUniqueViolation(SQLException e) {
        return e instanceof SQLiteException se && se.getResultCode() == SQLiteErrorCode.SQLITE_CONSTRAINT_UNIQUE;
    }

    interface Sql<T> { T run() throws SQLException; }

    interface Row<T> { T map(ResultSet rs) throws SQLException; }

    <T> T query(Sql<T> sql) {
        lock.lock();
        try {
            return sql.run();
        } catch (SQLException e) {
            throw new StoreException("database error: " + e.getMessage(), e);
        } finally {
            lock.unlock();
        }
    }

    /** Runs several statements as one transaction: all of them happen, or none. */
    <T> T transaction(Sql<T> sql) {
        return query(() -> {
            db.setAutoCommit(false);
            try {
                T result = sql.run();
                db.commit();
                return result;
            } catch (SQLException | RuntimeException e) {
                db.rollback();
                throw e;
            } finally {
                db.setAutoCommit(true);
            }
        });
    }

    PreparedStatement prepare(String sql, Object... args) throws SQLException {
        PreparedStatement ps = db.prepareStatement(sql);
        for (int i = 0; i < args.length; i++) ps.setObject(i + 1, args[i]);
        return ps;
    }

    int update(String sql, Object... args) throws SQLException {
        try (PreparedStatement ps = prepare(sql, args)) {
            return ps.executeUpdate();
        }
    }

    int count(String sql, Object... args) throws SQLException {
        try (PreparedStatement ps = prepare(sql, args); ResultSet rs = ps.executeQuery()) {
            return rs.getInt(1);
        }
    }

    <T> Optional<T> one(String sql, Row<T> row, Object... args) throws SQLException {
        try (PreparedStatement ps = prepare(sql, args); ResultSet rs = ps.executeQuery()) {
            return rs.next() ? Optional.of(row.map(rs)) : Optional.empty();
        }
    }

    <T> List<T> many(String sql, Row<T> row, Object... args) throws SQLException {
        try (PreparedStatement ps = prepare(sql, args); ResultSet rs = ps.executeQuery()) {
            var list = new ArrayList<T>();
            while (rs.next()) list.add(row.map(rs));
            return list;
        }
    }

    void close() {
        lock.lock();
        try {
            db.close();
        } catch (SQLException e) {
            throw new StoreException("close failed", e);
        } finally {
            lock.unlock();
        }
    }
}
