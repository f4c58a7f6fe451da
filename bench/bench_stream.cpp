// bench_stream: wall time and peak memory of `kvtier-cli analyze`, whole-trace or streamed
// (docs/PERFORMANCE.md "Streamed analysis"). Each run is a child process, so its peak
// resident set (getrusage of the child, via wait4) is the analysis's own, from an empty
// process. Prints JSON: medians, minima and maxima over the runs, and the child's first
// result line (the policies' totals) so two modes can be compared.
//
//   bench_stream --scenario FILE [--set key=value ...] [--stream] [--window-mb MB]
//                [--runs N] [--cli PATH]
#include <fcntl.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

extern char** environ;

namespace {

struct Measured {
    double wall_s = 0;
    double peak_mb = 0;
};

[[noreturn]] void fail(const std::string& why)
{
    std::cerr << "bench_stream: " << why << "\n";
    std::exit(2);
}

// Runs argv as a child with stdout to `out`; its wall time and peak resident set.
Measured runChild(const std::vector<std::string>& argv, const std::string& out)
{
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    const auto t0 = std::chrono::steady_clock::now();
    pid_t pid = 0;
    if (posix_spawn(&pid, args[0], &fa, nullptr, args.data(), environ) != 0) fail("cannot run " + argv[0]);
    posix_spawn_file_actions_destroy(&fa);
    int status = 0;
    rusage ru{};
    if (wait4(pid, &status, 0, &ru) != pid) fail("wait4 failed");
    Measured m;
    m.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    m.peak_mb = static_cast<double>(ru.ru_maxrss) / 1024.0;   // Linux: kilobytes
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) fail(argv[0] + " failed (status " + std::to_string(status) + ")");
    return m;
}

std::string stats(std::vector<double> v)
{
    std::sort(v.begin(), v.end());
    const size_t n = v.size();
    const double median = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    std::ostringstream o;
    o.precision(6);
    o << "{\"median\": " << median << ", \"min\": " << v.front() << ", \"max\": " << v.back() << "}";
    return o.str();
}

std::string defaultCli()
{
    // The bench sits in build/bench, the CLI in build/app.
    std::error_code ec;
    const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (ec) return "kvtier-cli";
    return (self.parent_path().parent_path() / "app" / "kvtier-cli").string();
}

} // namespace

int main(int argc, char** argv)
{
    std::string cli = defaultCli(), scenario, windowMb;
    std::vector<std::string> sets;
    bool stream = false;
    int runs = 3;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) fail(a + " needs a value");
            return argv[++i];
        };
        if (a == "--scenario") scenario = value();
        else if (a == "--set") sets.push_back(value());
        else if (a == "--stream") stream = true;
        else if (a == "--window-mb") windowMb = value();
        else if (a == "--runs") runs = std::max(1, std::atoi(value().c_str()));
        else if (a == "--cli") cli = value();
        else fail("unknown option " + a + " (see the comment at the top of bench/bench_stream.cpp)");
    }
    if (scenario.empty()) fail("--scenario FILE is needed");
    std::vector<std::string> cmd{cli, "analyze", "--scenario", scenario};
    for (const std::string& s : sets) {
        cmd.push_back("--set");
        cmd.push_back(s);
    }
    if (stream) cmd.push_back("--stream");
    if (!windowMb.empty()) {
        cmd.push_back("--window-mb");
        cmd.push_back(windowMb);
    }
    const std::string out = (std::filesystem::temp_directory_path() / ("bench_stream_" + std::to_string(getpid()) + ".txt")).string();
    std::vector<double> wall, peak;
    for (int r = 0; r < runs; ++r) {
        const Measured m = runChild(cmd, out);
        wall.push_back(m.wall_s);
        peak.push_back(m.peak_mb);
    }
    // The table's policy rows, to compare the modes' numbers.
    std::ifstream in(out);
    std::string line, rows;
    while (std::getline(in, line))
        if (line.find(" online ") != std::string::npos || line.find(" bound ") != std::string::npos) rows += line + "\n";
    std::remove(out.c_str());
    std::cout << "{\"mode\": \"" << (stream ? "stream" : "whole") << "\", \"runs\": " << runs
              << ", \"wall_s\": " << stats(wall) << ", \"peak_rss_mb\": " << stats(peak) << "}\n";
    std::cerr << rows;
    return 0;
}
