# The worker pieces of ManageIQ that miq_memlog.rb touches, with the real call shape:
# do_work -> deliver_message(msg) -> deliver_queue_message(msg) | process_message(msg).

# A queue row with MiqQueue's real attribute names. Its inspect is ActiveRecord's:
# every column, args included, which is why the enrichment must never use it.
class MiqQueue
  ATTRIBUTES = %i(id target_id priority method_name args task_id state zone role class_name
                  instance_id queue_name data miq_callback).freeze
  STATUS_OK = "ok".freeze
  attr_accessor(*ATTRIBUTES)

  # method_name => proc(msg) doing the message's work (the stand-in for class_name.method_name).
  def self.work
    @work ||= {}
  end

  def initialize(attributes = {})
    @state = "ready"
    attributes.each { |name, value| public_send("#{name}=", value) }
  end

  def inspect
    "#<MiqQueue #{ATTRIBUTES.map { |name| "#{name}: #{public_send(name).inspect}" }.join(", ")}>"
  end
  alias to_s inspect

  def tracking_label
    task_id
  end

  def deliver
    work = self.class.work[method_name]
    result = work ? work.call(self) : nil
    [STATUS_OK, "Message delivered successfully", result]
  end

  def delivered(status, _message, _result)
    @state = status
  end
end

module ManageIQ
  module Messaging
    # As in the manageiq-messaging gem.
    class ReceivedMessage
      attr_accessor :sender, :message, :payload, :ack_ref, :client

      def initialize(sender, message, payload, ack_ref, client)
        @sender, @message, @payload, @ack_ref, @client = sender, message, payload, ack_ref, client
      end

      def ack
        client.ack(ack_ref) if client
      end
    end
  end
end

class MiqWorker
  class Runner
    include Vmdb::Logging

    attr_reader :synced

    def initialize(queue = [])
      @queue = queue
      @synced = 0
    end

    def log_prefix
      @log_prefix ||= "MIQ(#{self.class.name})"
    end

    def heartbeat; end

    def process_message(message, *args)
      meth = "message_#{message}"
      if respond_to?(meth)
        send(meth, *args)
      else
        _log.warn("#{log_prefix} Message [#{message}] is not recognized, ignoring")
      end
    end

    def message_sync_config(*_args)
      @synced += 1
      :config_synced
    end
  end
end

class MiqQueueWorkerBase
  class Runner < MiqWorker::Runner
    def get_message
      @queue.shift
    end

    def deliver_queue_message(msg, &block)
      $_miq_worker_current_msg = msg
      status, message, result = msg.deliver(&block)
      msg.delivered(status, message, result)
      result
    ensure
      $_miq_worker_current_msg = nil
    end

    def process_miq_messaging_message(msg)
      msg.ack
      :acked
    end

    def deliver_message(msg)
      case msg
      when MiqQueue
        deliver_queue_message(msg)
      when ManageIQ::Messaging::ReceivedMessage
        process_miq_messaging_message(msg)
      when String
        process_message(msg)
      else
        _log.error("#{log_prefix} Message <#{msg.inspect}> is of unknown type <#{msg.class}>")
        raise "#{log_prefix} Message <#{msg.inspect}> is of unknown type <#{msg.class}>"
      end
    end

    def do_work
      loop do
        heartbeat
        msg = get_message
        break if msg.nil?
        deliver_message(msg)
      end
    end
  end
end

class MiqGenericWorker
  class Runner < MiqQueueWorkerBase::Runner; end
end

class MiqPriorityWorker
  class Runner < MiqQueueWorkerBase::Runner; end
end

class MiqEventHandler
  class Runner < MiqQueueWorkerBase::Runner; end
end

module ManageIQ
  module Providers
    module Vmware
      class InfraManager
        class RefreshWorker
          # Refresh runners deliver queue messages themselves, without calling super.
          class Runner < MiqQueueWorkerBase::Runner
            attr_reader :refreshed

            def deliver_queue_message(msg)
              (@refreshed ||= []) << [msg.class_name, msg.instance_id]
              msg.delivered(MiqQueue::STATUS_OK, "Refreshed", nil)
              :refreshed
            end
          end
        end
      end
    end
  end
end
