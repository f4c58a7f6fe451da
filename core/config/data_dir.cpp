#include "core/config/data_dir.hpp"

#include <cstdlib>
#include <filesystem>
#include <mutex>

namespace kvtier {

namespace {

std::mutex& dirMutex()
{
    static std::mutex m;
    return m;
}

std::string& configured()
{
    static std::string dir;
    return dir;
}

} // namespace

std::string dataDirBesideExecutable(const std::string& exeDir)
{
    return (std::filesystem::path(exeDir) / ".." / "share" / "kvtier").lexically_normal().string();
}

void setDataDir(const std::string& dir)
{
    const std::lock_guard lock(dirMutex());
    configured() = dir;
}

std::string dataDir()
{
    if (const char* env = std::getenv("KVTIER_DATA_DIR"); env && *env) return env;
    const std::lock_guard lock(dirMutex());
    return configured();
}

std::string defaultScenarioPath()
{
    const std::string dir = dataDir();
    if (dir.empty()) return {};
    return (std::filesystem::path(dir) / "sample_traces" / "default.kvtier.json").string();
}

std::string docDir()
{
    if (const char* env = std::getenv("KVTIER_DOC_DIR"); env && *env) return env;
    const std::string dir = dataDir();
    if (dir.empty()) return {};
    return (std::filesystem::path(dir) / ".." / "doc" / "kvtier").lexically_normal().string();
}

std::string docPath(const std::string& name)
{
    const std::string dir = docDir();
    if (dir.empty()) return {};
    return (std::filesystem::path(dir) / name).string();
}

} // namespace kvtier
