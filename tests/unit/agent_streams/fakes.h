// Test doubles for the stream modules: a ContainerAccess over a fixed set of
// views, a StreamSink that records frames, and a BidiStream fed by the test.
#pragma once

#include <sys/eventfd.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "agent/api/connection.h"
#include "agent/engine/container_access.h"

namespace berth::tests::streams {

namespace pb = ::berth::api;
using agent::api::CallError;
using agent::api::CallResult;
using agent::engine::ContainerView;

inline void fireEventFd(int fd) {
  uint64_t one = 1;
  (void)!::write(fd, &one, sizeof one);
}

class FakeAccess : public agent::engine::ContainerAccess {
 public:
  std::map<std::string, ContainerView> views;
  // What shimPidfd() hands out (a dup): tests fire it as "the shim exited".
  int shimEvent = -1;
  std::map<std::string, pb::ExitStatus> exits;
  std::function<CallResult<ContainerView>(const std::string&)> onStart;

  CallResult<ContainerView> find(const std::string& idOrName) override {
    auto it = views.find(idOrName);
    if (it == views.end()) return CallError(pb::NOT_FOUND, "no such container: " + idOrName);
    return it->second;
  }
  CallResult<ContainerView> start(const std::string& idOrName) override {
    if (onStart) return onStart(idOrName);
    return CallError(pb::INTERNAL, "start not expected");
  }
  sys::UniqueFd shimPidfd(const std::string& id) override {
    auto it = views.find(id);
    if (it == views.end() || it->second.state != pb::STATE_RUNNING || shimEvent < 0) return {};
    return sys::UniqueFd(::dup(shimEvent));
  }
  CallResult<pb::ExitStatus> lastExit(const std::string& id) override {
    auto it = exits.find(id);
    if (it == exits.end()) return CallError(pb::FAILED_PRECONDITION, "no exit recorded");
    return it->second;
  }
  std::vector<ContainerView> running() override {
    std::vector<ContainerView> out;
    for (const auto& [id, v] : views) {
      if (v.state == pb::STATE_RUNNING) out.push_back(v);
    }
    return out;
  }
};

class RecordingSink : public agent::api::StreamSink {
 public:
  RecordingSink() : cancel_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {}
  ~RecordingSink() override { ::close(cancel_); }
  std::vector<pb::Response> frames;
  std::function<void(const pb::Response&)> onSend;
  bool failSends = false;

  bool send(const pb::Response& frame) override {
    if (failSends) return false;
    frames.push_back(frame);
    if (onSend) onSend(frame);
    return true;
  }
  bool cancelled() const override { return cancelled_; }
  int cancelFd() const override { return cancel_; }
  void cancel() {
    cancelled_ = true;
    fireEventFd(cancel_);
  }

 private:
  int cancel_;
  bool cancelled_ = false;
};

class FakeBidi : public agent::api::BidiStream {
 public:
  FakeBidi() : cancel_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {}
  ~FakeBidi() override { ::close(cancel_); }

  // Called (on the sending thread) after each output frame is recorded.
  std::function<void(const pb::ExecOutput&)> onOutput;

  bool send(const pb::ExecOutput& output) override {
    {
      std::lock_guard lock(mutex_);
      outputs_.push_back(output);
    }
    changed_.notify_all();
    if (onOutput) onOutput(output);
    return true;
  }
  bool receive(pb::StreamInput* input) override {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return !inputs_.empty() || closed_ || cancelled_; });
    if (closed_ || inputs_.empty()) return false;
    *input = std::move(inputs_.front());
    inputs_.pop_front();
    return true;
  }
  void closeInput() override {
    std::lock_guard lock(mutex_);
    closed_ = true;
    changed_.notify_all();
  }
  bool cancelled() const override { return cancelled_; }
  int cancelFd() const override { return cancel_; }

  void push(pb::StreamInput input) {
    std::lock_guard lock(mutex_);
    inputs_.push_back(std::move(input));
    changed_.notify_all();
  }
  void pushStdin(const std::string& data) {
    pb::StreamInput in;
    in.set_stdin(data);
    push(std::move(in));
  }
  void pushCloseStdin() {
    pb::StreamInput in;
    in.mutable_close_stdin();
    push(std::move(in));
  }
  void pushResize(unsigned rows, unsigned cols) {
    pb::StreamInput in;
    in.mutable_resize()->set_rows(rows);
    in.mutable_resize()->set_cols(cols);
    push(std::move(in));
  }
  void pushSignal(int sig) {
    pb::StreamInput in;
    in.set_signal(sig);
    push(std::move(in));
  }
  void cancel() {
    {
      std::lock_guard lock(mutex_);
      cancelled_ = true;
    }
    fireEventFd(cancel_);
    changed_.notify_all();
  }
  // All output of `stream` so far, concatenated.
  std::string output(pb::OutputStream stream = pb::OUTPUT_STDOUT) {
    std::lock_guard lock(mutex_);
    std::string all;
    for (const auto& o : outputs_) {
      if (o.stream() == stream) all += o.data();
    }
    return all;
  }
  // Waits until the stdout seen so far contains `text`.
  bool waitForOutput(const std::string& text, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] {
      std::string all;
      for (const auto& o : outputs_) all += o.data();
      return all.find(text) != std::string::npos;
    });
  }
  size_t outputCount() {
    std::lock_guard lock(mutex_);
    return outputs_.size();
  }
  std::vector<pb::ExecOutput> outputs() {
    std::lock_guard lock(mutex_);
    return outputs_;
  }

 private:
  int cancel_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<pb::StreamInput> inputs_;
  std::vector<pb::ExecOutput> outputs_;
  bool closed_ = false;
  std::atomic<bool> cancelled_{false};
};

}  // namespace berth::tests::streams
