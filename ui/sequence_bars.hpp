#pragma once
// The comparison view's panel for a batch of S > 1 sequences (MODEL.md §8): per policy a
// bar stacked from each sequence's share of the total time, sequence s always in colour s
// (theme.hpp's seriesColor), its hit ratio, KV read and migrated bytes on hover. Draws the
// core's view_compare.hpp sequenceRows, nothing computed here.
#include "core/engine/view_compare.hpp"

#include <QString>
#include <QWidget>

#include <vector>

class QCustomPlot;
class QCPBars;

namespace kvtier::ui {

class SequenceBars : public QWidget {
    Q_OBJECT
public:
    explicit SequenceBars(QWidget* parent = nullptr);
    // Shows the rows in their order, top to bottom (the widget hides itself when empty).
    void showRows(const std::vector<SequenceRow>& rows);
    void applyTheme();
    QCustomPlot* plot() const { return plot_; }
    // One bar series per sequence: bars(s)'s value at key i is row i's time share of sequence s.
    int sequenceCount() const { return static_cast<int>(bars_.size()); }
    QCPBars* bars(int s) const { return bars_[static_cast<size_t>(s)]; }
    // What hovering row i's segment of sequence s tells (empty outside the rows).
    QString cellText(int row, int sequence) const;

protected:
    bool eventFilter(QObject* watched, QEvent* event) override;

private:
    void thinLabels();
    QCustomPlot* plot_;
    int shownEvery_ = 0;   // the policy names shown: every k-th (0: not yet set)
    std::vector<QCPBars*> bars_;
    std::vector<SequenceRow> rows_;
};

} // namespace kvtier::ui
