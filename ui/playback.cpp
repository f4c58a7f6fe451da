#include "ui/playback.hpp"

#include "ui/plot_view.hpp"

#include <QTimer>

#include <algorithm>
#include <cmath>

namespace kvtier::ui {

Playback::Playback(StepLink* link, QObject* parent) : QObject(parent), link_(link), timer_(new QTimer(this))
{
    timer_->setInterval(40);
    connect(timer_, &QTimer::timeout, this, &Playback::advance);
}

bool Playback::playing() const { return timer_->isActive(); }

void Playback::toggle()
{
    if (timer_->isActive())
        timer_->stop();
    else
        timer_->start();
    emit playingChanged(timer_->isActive());
}

void Playback::stepForward() { link_->setCursor(link_->cursor() + 1); }
void Playback::stepBack() { link_->setCursor(link_->cursor() - 1); }

void Playback::advance()
{
    const int64_t T = link_->steps();
    if (T <= 0)
        return;
    const int64_t stride = std::max<int64_t>(1, T / 400);
    const int64_t lo = static_cast<int64_t>(std::ceil(link_->lower()));
    const int64_t hi = static_cast<int64_t>(std::floor(link_->upper()));
    int64_t next = link_->cursor() + stride;
    if (next > hi || next < lo)
        next = std::max<int64_t>(0, lo);
    link_->setCursor(next);
}

} // namespace kvtier::ui
