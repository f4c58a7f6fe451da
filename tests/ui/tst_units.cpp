// ui/units: what a typed value means. Every accepted form converts to the core's units
// exactly as MODEL.md defines them (1 GB = 1e9 B, 1 GiB = 2^30 B); everything else is
// refused with a reason, never reinterpreted (issue 10: "1.2 TB/s" once became 1.2 GB/s,
// "4e11" became 411 GB/s and "-5" became 5).
#include "ui/units.hpp"

#include <QTest>

#include <cmath>

using namespace kvtier::ui;

class TestUnits : public QObject {
    Q_OBJECT
private slots:
    void accepts_data();
    void accepts();
    void refuses_data();
    void refuses();
    void bareNumbersAreInTheShownUnit();
    void formatsRoundTrip();
};

Q_DECLARE_METATYPE(kvtier::ui::Quantity)

void TestUnits::accepts_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<Quantity>("quantity");
    QTest::addColumn<double>("shownScale");
    QTest::addColumn<double>("expected");
    QTest::addColumn<bool>("hadUnit");
    const double GiB = 1073741824.0;
    QTest::newRow("TB/s") << "1.2 TB/s" << Quantity::Bandwidth << 1e9 << 1.2e12 << true;
    QTest::newRow("TB/s no space") << "1.2TB/s" << Quantity::Bandwidth << 1e9 << 1.2e12 << true;
    QTest::newRow("GB/s") << "500 GB/s" << Quantity::Bandwidth << 1e12 << 5e11 << true;
    QTest::newRow("GiB/s") << "450 GiB/s" << Quantity::Bandwidth << 1e9 << 450 * GiB << true;
    QTest::newRow("MB/s") << "64 MB/s" << Quantity::Bandwidth << 1e9 << 64e6 << true;
    QTest::newRow("kB/s") << "3 kB/s" << Quantity::Bandwidth << 1e9 << 3e3 << true;
    QTest::newRow("B/s") << "7e9 B/s" << Quantity::Bandwidth << 1e9 << 7e9 << true;
    QTest::newRow("TiB/s") << "1 TiB/s" << Quantity::Bandwidth << 1e9 << 1099511627776.0 << true;
    QTest::newRow("GB") << "96 GB" << Quantity::Bytes << 1e9 << 96e9 << true;
    QTest::newRow("kB") << "131 kB" << Quantity::Bytes << 1e9 << 131e3 << true;
    QTest::newRow("KB") << "131 KB" << Quantity::Bytes << 1e9 << 131e3 << true;
    QTest::newRow("MiB") << "2 MiB" << Quantity::Bytes << 1e9 << 2097152.0 << true;
    QTest::newRow("GiB") << "80 GiB" << Quantity::Bytes << 1e9 << 80 * GiB << true;
    QTest::newRow("TB") << "1.5 TB" << Quantity::Bytes << 1e9 << 1.5e12 << true;
    QTest::newRow("PB") << "0.002 PB" << Quantity::Bytes << 1e9 << 2e12 << true;
    QTest::newRow("B") << "4096 B" << Quantity::Bytes << 1e3 << 4096.0 << true;
    QTest::newRow("sci bare") << "4e11" << Quantity::Bandwidth << 1e9 << 4e20 << false;
    QTest::newRow("sci upper") << "1.5E3" << Quantity::Plain << 1.0 << 1500.0 << false;
    QTest::newRow("sci signed exp") << "2.5e-1" << Quantity::Fraction << 1.0 << 0.25 << false;
    QTest::newRow("sci with unit") << "4e2 GB/s" << Quantity::Bandwidth << 1e12 << 4e11 << true;
    QTest::newRow("plain") << "500" << Quantity::Bandwidth << 1e9 << 5e11 << false;
    QTest::newRow("plain decimal") << "0.3" << Quantity::Fraction << 1.0 << 0.3 << false;
    QTest::newRow("leading dot") << ".5" << Quantity::Fraction << 1.0 << 0.5 << false;
    QTest::newRow("trailing dot") << "5." << Quantity::Plain << 1.0 << 5.0 << false;
    QTest::newRow("plus sign") << "+12" << Quantity::Plain << 1.0 << 12.0 << false;
    QTest::newRow("negative is a number") << "-5" << Quantity::Plain << 1.0 << -5.0 << false;
    QTest::newRow("spaces") << "  96   GB  " << Quantity::Bytes << 1e9 << 96e9 << true;
    QTest::newRow("percent") << "30 %" << Quantity::Fraction << 1.0 << 0.3 << true;
    QTest::newRow("percent tight") << "12.5%" << Quantity::Fraction << 1.0 << 0.125 << true;
    QTest::newRow("tok") << "2048 tok" << Quantity::Count << 1.0 << 2048.0 << true;
    QTest::newRow("tokens") << "16 tokens" << Quantity::Count << 1.0 << 16.0 << true;
    QTest::newRow("count bare") << "64" << Quantity::Count << 1.0 << 64.0 << false;
}

void TestUnits::accepts()
{
    QFETCH(QString, text);
    QFETCH(Quantity, quantity);
    QFETCH(double, shownScale);
    QFETCH(double, expected);
    QFETCH(bool, hadUnit);
    const ParsedQuantity p = parseQuantity(text, quantity, shownScale);
    QVERIFY2(p.ok, qPrintable(p.error));
    QVERIFY2(std::fabs(p.value - expected) <= 1e-12 * std::fabs(expected), qPrintable(QString::number(p.value, 'g', 17)));
    QCOMPARE(p.hadUnit, hadUnit);
    QVERIFY(p.error.isEmpty());
}

void TestUnits::refuses_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<Quantity>("quantity");
    QTest::addColumn<QString>("mentions");   // part of the reason
    QTest::newRow("empty") << "" << Quantity::Bytes << "empty";
    QTest::newRow("blank") << "   " << Quantity::Bytes << "empty";
    QTest::newRow("letters") << "abc" << Quantity::Bytes << "not a number";
    QTest::newRow("lone dot") << "." << Quantity::Plain << "not a number";
    QTest::newRow("lone sign") << "-" << Quantity::Plain << "not a number";
    QTest::newRow("size in bandwidth") << "1.2 TB" << Quantity::Bandwidth << "is a size";
    QTest::newRow("bandwidth in size") << "96 GB/s" << Quantity::Bytes << "is a bandwidth";
    QTest::newRow("bits") << "100 Gb/s" << Quantity::Bandwidth << "unknown unit";
    QTest::newRow("lower m") << "5 mB" << Quantity::Bytes << "unknown unit";
    QTest::newRow("hertz") << "5 GHz" << Quantity::Bandwidth << "unknown unit";
    QTest::newRow("per second word") << "5 GB per s" << Quantity::Bandwidth << "unknown unit";
    QTest::newRow("two numbers") << "1 2" << Quantity::Plain << "not understood";
    QTest::newRow("comma decimal") << "1,5" << Quantity::Plain << "not understood";
    QTest::newRow("exponent without digits") << "4e" << Quantity::Bandwidth << "exponent";
    QTest::newRow("exponent sign only") << "4e+" << Quantity::Bandwidth << "exponent";
    QTest::newRow("overflow") << "1e999" << Quantity::Plain << "finite";
    QTest::newRow("nan") << "nan" << Quantity::Plain << "not a number";
    QTest::newRow("inf") << "inf" << Quantity::Plain << "not a number";
    QTest::newRow("hex") << "0x10" << Quantity::Plain << "not understood";
    QTest::newRow("unit first") << "GB 96" << Quantity::Bytes << "not a number";
    QTest::newRow("percent in bytes") << "30 %" << Quantity::Bytes << "unknown unit";
    QTest::newRow("tok in bandwidth") << "5 tok" << Quantity::Bandwidth << "unknown unit";
    QTest::newRow("bytes in count") << "5 kB" << Quantity::Count << "unknown unit";
    QTest::newRow("k for tokens") << "4k" << Quantity::Count << "unknown unit";
    QTest::newRow("fraction unit") << "0.3 x" << Quantity::Fraction << "unknown unit";
}

void TestUnits::refuses()
{
    QFETCH(QString, text);
    QFETCH(Quantity, quantity);
    QFETCH(QString, mentions);
    const ParsedQuantity p = parseQuantity(text, quantity, 1e9);
    QVERIFY2(!p.ok, qPrintable(QString::number(p.value)));
    QVERIFY2(p.error.contains(mentions), qPrintable(p.error));
}

// A bare number carries the field's unit: the caller (ValueSlider) decides about range.
void TestUnits::bareNumbersAreInTheShownUnit()
{
    QCOMPARE(parseQuantity(QStringLiteral("4.9"), Quantity::Bandwidth, 1e12).value, 4.9e12);
    QCOMPARE(parseQuantity(QStringLiteral("96"), Quantity::Bytes, 1e9).value, 96e9);
    QCOMPARE(parseQuantity(QStringLiteral("131"), Quantity::Bytes, 1e3).value, 131e3);
    // With a unit the shown one does not matter.
    QCOMPARE(parseQuantity(QStringLiteral("96 GB"), Quantity::Bytes, 1e3).value, 96e9);
}

// What formatBytes/formatBandwidth write reads back to the same value.
void TestUnits::formatsRoundTrip()
{
    for (double v : {131e3, 96e9, 1.25e12, 512.0, 4.1e6}) {
        const ParsedQuantity p = parseQuantity(formatBytes(v), Quantity::Bytes);
        QVERIFY2(p.ok, qPrintable(formatBytes(v) + ": " + p.error));
        QCOMPARE(p.value, v);
    }
    for (double v : {4.9e12, 5e11, 4.5e11, 64e6}) {
        const ParsedQuantity p = parseQuantity(formatBandwidth(v), Quantity::Bandwidth);
        QVERIFY2(p.ok, qPrintable(formatBandwidth(v) + ": " + p.error));
        QCOMPARE(p.value, v);
    }
}

QTEST_APPLESS_MAIN(TestUnits)
#include "tst_units.moc"
