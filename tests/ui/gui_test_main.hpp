#pragma once
// The main() of every GUI suite: QTEST_MAIN plus a private XDG_RUNTIME_DIR when the
// environment has none (Qt warns about it otherwise, and warnings are fatal in these tests),
// and the settings kept under a test organisation, one application name per suite.
#include <QApplication>
#include <QDir>
#include <QFile>
#include <QtTest>

template <class Suite>
int runGuiSuite(int argc, char** argv, const char* name)
{
    QByteArray runtime;
    if (qEnvironmentVariableIsEmpty("XDG_RUNTIME_DIR")) {
        runtime = QDir::tempPath().toUtf8() + "/kvtier-" + name + "-" + QByteArray::number(QCoreApplication::applicationPid());
        QDir().mkpath(QString::fromUtf8(runtime));
        QFile::setPermissions(QString::fromUtf8(runtime), QFileDevice::ReadOwner | QFileDevice::WriteOwner | QFileDevice::ExeOwner);
        qputenv("XDG_RUNTIME_DIR", runtime);
    }
    QApplication app(argc, argv);
    QApplication::setOrganizationName(QStringLiteral("kvtier-test"));
    QApplication::setApplicationName(QString::fromLatin1(name));
    Suite suite;
    const int rc = QTest::qExec(&suite, argc, argv);
    if (!runtime.isEmpty())
        QDir(QString::fromUtf8(runtime)).removeRecursively();
    return rc;
}
