// report.html: one self-contained page per run record (inline SVG and CSS, no script, no external
// URL), readable offline and attachable to an e-mail: the stages' DAG by status, the results,
// learning curves, confusion matrices and per-class bars of each evaluation, a sweep's metrics
// against each grid parameter with mean ± std over seeds and its per-trial table, the timeline of
// when each stage ran where, and the lock information. A record of a run that crashed, failed or
// was interrupted gives a report of what finished, the rest marked.
#pragma once

#include <filesystem>
#include <string>

#include "report/run_record.hpp"

namespace pipeline::report {

std::string html_report(const RunRecord& record);

// Writes html_report(record) to `file` atomically; throws Error(io) naming the file.
void write_html_report(const RunRecord& record, const std::filesystem::path& file);

}  // namespace pipeline::report
