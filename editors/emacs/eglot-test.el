;;; eglot-test.el --- the Eglot setup from editors/README.md against the real server -*- lexical-binding: t -*-

;; emacs --batch -l editors/emacs/eglot-test.el
;;
;; Needs Emacs with Eglot (built in since Emacs 29; Debian's elpa-eglot for 28).
;; The server is $NANLINT_BIN, else target/debug/nanlint. Eglot 1.9 offers
;; neither pull diagnostics nor UTF-8 positions, so this covers the server's
;; push and UTF-16 paths. Ends with "N passed, N failed"; exits 1 on a failure.

(require 'cl-lib)
(require 'eglot)
(require 'flymake)

(defvar nl-repo
  (expand-file-name "../.." (file-name-directory (or load-file-name buffer-file-name))))
(defvar nl-bin (or (getenv "NANLINT_BIN") (expand-file-name "target/debug/nanlint" nl-repo)))
(defvar nl-passed 0)
(defvar nl-failed 0)

(defun nl-check (name ok &optional seen)
  (if ok (cl-incf nl-passed) (cl-incf nl-failed))
  (princ (format "%s - %s%s\n" (if ok "ok  " "FAIL") name
                 (if ok "" (format "\n       seen: %S" seen))))
  ok)

(defun nl-wait (pred seconds)
  "Run the event loop until PRED returns non-nil (its value) or SECONDS pass."
  (let ((end (+ (float-time) seconds)) value)
    (while (and (not (setq value (funcall pred))) (< (float-time) end))
      (accept-process-output nil 0.05))
    value))

(defun nl-diags ()
  (cl-remove-if-not (lambda (d) (string-match-p "NL101" (flymake-diagnostic-text d)))
                    (flymake-diagnostics)))

(defun nl-text (d)
  (and d (buffer-substring (flymake-diagnostic-beg d) (flymake-diagnostic-end d))))

(defun nl-sync ()
  "Send pending changes now: batch Emacs never idles, so Eglot's timer would not."
  (eglot--signal-textDocument/didChange))

;; The README's setup, with the command pointed at the binary under test.
(add-to-list 'eglot-server-programs
             `((python-mode python-ts-mode) . (,nl-bin "server")))
(setq-default eglot-workspace-configuration '(:nanlint (:epsilon 1e-6)))

(let* ((dir (make-temp-file "nanlint-eglot" t))
       (file (expand-file-name "train.py" dir)))
  (with-temp-file (expand-file-name "pyproject.toml" dir) (insert "[project]\nname = \"demo\"\n"))
  (with-temp-file file
    (insert "import tensorflow as tf\n"
            "y_conv = tf.nn.relu(logits)\n"
            "cross_entropy = -tf.reduce_sum(y_ * tf.log(y_conv))\n"))
  (find-file file)
  (python-mode)
  (apply #'eglot (eglot--guess-contact))
  (let ((server (eglot-current-server)))
    (when (nl-check "Eglot connects" server)
      (let ((d (car (nl-wait #'nl-diags 20))))
        (when (nl-check "NL101 pushed to Flymake" d (flymake-diagnostics))
          (nl-check "on the log call" (equal (nl-text d) "tf.log(y_conv)") (nl-text d))
          (let* ((actions (eglot-code-actions (flymake-diagnostic-beg d) (flymake-diagnostic-end d)))
                 (titles (mapcar (lambda (a) (plist-get a :title)) actions))
                 (clip (cl-find-if (lambda (a) (string-match-p "Raise" (plist-get a :title))) actions)))
            (nl-check "clip and xlogy offered"
                      (and clip (cl-find-if (lambda (title) (string-match-p "xlogy" title)) titles))
                      titles)
            (when clip
              (eglot--apply-workspace-edit (plist-get clip :edit))
              (nl-sync)
              ;; 1e-6: the epsilon from eglot-workspace-configuration.
              (nl-check "clip applied with the configured epsilon"
                        (string-match-p
                         (regexp-quote "tf.log(tf.math.maximum(y_conv, 1e-6))")
                         (buffer-string))
                        (buffer-string))
              (nl-check "diagnostic gone" (nl-wait (lambda () (null (nl-diags))) 20)
                        (flymake-diagnostics))))))
      ;; A smell after CJK text and an emoji (a log of the ReLU output `y_conv`
      ;; again): UTF-16 columns must match.
      (goto-char (point-max))
      (insert "label = \"日本語 🙂\"; loss = tf.math.log(y_conv)\n")
      (nl-sync)
      (let ((d (car (nl-wait #'nl-diags 20))))
        (nl-check "after an emoji: on the log call" (equal (nl-text d) "tf.math.log(y_conv)") (nl-text d)))
      ;; Eglot kills the process right after `exit', so only the answer to
      ;; `shutdown' can be checked here: eglot-shutdown fails without one.
      (let ((answered (condition-case err (progn (eglot-shutdown server) t)
                        (error err))))
        (nl-check "shutdown answered" (eq answered t) answered)))))

(princ (format "%d passed, %d failed\n" nl-passed nl-failed))
(kill-emacs (if (> nl-failed 0) 1 0))
