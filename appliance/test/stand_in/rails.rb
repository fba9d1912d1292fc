# The Rails and logging pieces of ManageIQ that miq_memlog.rb touches.
require "logger"
require "pathname"
require "stringio"

# The classic evm.log header as ManageIQ's logger writes it (local time, progname evm).
class ClassicLogFormatter < Logger::Formatter
  def call(severity, time, progname, message)
    format("[----] %s, [%s#%d:%x] %5s -- %s: %s\n", severity[0], time.strftime("%Y-%m-%dT%H:%M:%S.%6N"),
           Process.pid, Thread.current.object_id, severity, progname, message)
  end
end

def classic_logger(io)
  logger = Logger.new(io, progname: "evm")
  logger.formatter = ClassicLogFormatter.new
  logger
end

module Rails
  class Config
    attr_reader :to_prepare_blocks

    def initialize
      @to_prepare_blocks = []
    end

    def to_prepare(&block)
      @to_prepare_blocks << block
    end
  end

  class Application
    def config
      @config ||= Config.new
    end

    # What Rails does once at boot, and again after each code reload.
    def run_to_prepare
      config.to_prepare_blocks.each(&:call)
    end
  end

  class << self
    attr_accessor :root, :logger

    def application
      @application ||= Application.new
    end
  end
end

Rails.root = Pathname.new(Dir.pwd)
$rails_log_io = StringIO.new
Rails.logger = classic_logger($rails_log_io)
$log_io = StringIO.new
$log = classic_logger($log_io)

module Vmdb
  # `_log` prints ManageIQ's prefix: MIQ(<runtime class>#<calling method>).
  module Logging
    class PrefixedLogger
      def initialize(prefix)
        @prefix = prefix
      end

      %i(debug info warn error).each do |level|
        define_method(level) { |message| $log.public_send(level, "#{@prefix} #{message}") }
      end
    end

    def _log
      PrefixedLogger.new("MIQ(#{self.class.name}##{caller_locations(1, 1).first.base_label})")
    end
  end
end
